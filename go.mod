module github.com/motcua/motcua

go 1.26.0

require (
	fyne.io/fyne/v2 v2.7.2 // indirect
	github.com/creack/pty v1.1.24 // indirect
	github.com/mattn/go-sqlite3 v1.14.53 // indirect
	golang.org/x/text v0.43.0 // indirect
)

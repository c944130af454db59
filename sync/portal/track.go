package portal

import (
	"context"
	"database/sql"
	"errors"
	"html/template"
	"net/http"

	"github.com/motcua/motcua/sync/portalapi"
)

// trackPage is what a citizen sees after scanning the receipt's QR code: no
// personal data of the citizen, only where the file stands and who handled
// it when (the officer and agency of each change).
var trackPage = template.Must(template.New("track").Parse(`<!doctype html>
<html lang="vi">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Hồ sơ {{.FileCode}}</title>
<style>
body { font-family: sans-serif; font-size: 20px; line-height: 1.5; margin: 0; padding: 1em; background: #fff; color: #111; max-width: 40em; }
h1 { font-size: 1.4em; margin: 0 0 .5em; }
.code { font-family: monospace; font-size: 1.1em; word-break: break-all; }
.state { font-size: 1.5em; font-weight: bold; padding: .5em; border: 3px solid #111; margin: .5em 0; }
.en { color: #444; font-size: .85em; }
ol { padding-left: 1.2em; }
li { margin-bottom: .6em; }
.note { background: #fff4c2; padding: .3em .5em; }
.by { font-size: .9em; }
</style>
</head>
<body>
{{if .Found}}
<h1>Tra cứu hồ sơ <span class="en">/ File tracking</span></h1>
<p>Mã hồ sơ <span class="en">/ File code</span>:<br><span class="code">{{.FileCode}}</span></p>
<p>Thủ tục <span class="en">/ Procedure</span>: {{.Procedure}}</p>
<div class="state">{{.StateVI}}<br><span class="en">{{.StateEN}}</span></div>
<p>Ngày tiếp nhận <span class="en">/ Received</span>: {{.Received}}<br>
Ngày hẹn trả <span class="en">/ Due</span>: {{.Due}}</p>
<h2>Quá trình xử lý <span class="en">/ History</span></h2>
<ol>
{{range .History}}<li>{{.At}}: {{.StateVI}} <span class="en">/ {{.StateEN}}</span><br>
<span class="by">Người xử lý <span class="en">/ Handled by</span>: {{if .Officer}}{{.Officer}}{{if .Agency}}, {{.Agency}}{{end}}{{else if .Agency}}{{.Agency}}{{else}}hệ thống <span class="en">/ the system</span>{{end}}</span>{{if .Note}}<br><span class="note">{{.Note}}</span>{{end}}</li>
{{end}}</ol>
{{else if .ByCodeOnly}}
<h1>Hãy quét mã QR trên biên nhận <span class="en">/ Scan your receipt's QR code</span></h1>
<p>Để bảo vệ thông tin của công dân, không thể tra cứu hồ sơ chỉ bằng mã hồ sơ. Hãy quét mã QR in trên biên nhận, hoặc tra cứu tại máy ki-ốt.</p>
<p class="en">To protect citizens' files, a file cannot be looked up by its file code alone. Scan the QR code printed on your receipt, or look it up at the kiosk.</p>
{{else}}
<h1>Không tìm thấy hồ sơ <span class="en">/ File not found</span></h1>
<p>Mã <span class="code">{{.FileCode}}</span> không có trong hệ thống. Hãy kiểm tra lại mã trên biên nhận.</p>
<p class="en">No file has this code. Check the code on your receipt.</p>
{{end}}
</body>
</html>
`))

type trackView struct {
	Found bool
	// ByCodeOnly is set for a page asked by file code alone, which shows
	// nothing: file codes are sequential, and anyone could read every
	// file's state by counting.
	ByCodeOnly       bool
	FileCode         string
	Procedure        string
	StateVI, StateEN string
	Received, Due    string
	History          []trackEvent
}

type trackEvent struct {
	At               string
	StateVI, StateEN string
	Note             string
	// Officer and Agency made the change; both empty for the system (a
	// kiosk's filing).
	Officer, Agency string
}

// stateNames are the portal states for citizens.
var stateNames = map[portalapi.State][2]string{
	portalapi.Received:  {"Đã tiếp nhận", "Received"},
	portalapi.InReview:  {"Đang xử lý", "In review"},
	portalapi.NeedsMore: {"Cần bổ sung giấy tờ", "More documents needed"},
	portalapi.Done:      {"Đã có kết quả", "Done"},
	portalapi.Rejected:  {"Bị từ chối", "Rejected"},
}

// handleTrack serves the tracking page of a file by the device and the
// idempotency key its receipt's QR code carries (portalapi.TrackPath): the
// key, 128 random bits made at capture, is the secret that lets its holder
// read the file's state. A file code alone shows nothing: codes are
// sequential per agency and day, so anyone could read every file's state
// by counting. A key alone finds nothing either: keys are unique only per
// device, and a file another device filed under the same key must never
// be shown for the citizen's receipt.
func (s *Server) handleTrack(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("device") == "" {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusNotFound)
		trackPage.Execute(w, trackView{FileCode: r.PathValue("code"), ByCodeOnly: true})
		return
	}
	v, err := s.track(r.Context(), r.PathValue("device"), r.PathValue("code"))
	if err != nil {
		s.log.Error("track", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if !v.Found {
		w.WriteHeader(http.StatusNotFound)
	}
	trackPage.Execute(w, v)
}

func (s *Server) track(ctx context.Context, device, code string) (trackView, error) {
	v := trackView{FileCode: code}
	local := func(ts string) string { return parseTime(ts).In(vietnam).Format("15:04 02/01/2006") }
	var id int64
	var proc, procCode, state, received, due string
	err := s.db.QueryRowContext(ctx, `SELECT id, file_code, procedure_id, procedure_code, state, received_at, due_at
		FROM submissions WHERE device_id = ? AND idempotency_key = ?`, device, code).Scan(&id, &v.FileCode, &proc, &procCode, &state, &received, &due)
	if errors.Is(err, sql.ErrNoRows) {
		return v, nil
	}
	if err != nil {
		return v, err
	}
	v.Found = true
	v.Procedure = proc
	if procCode != "" {
		v.Procedure = procCode + " (" + proc + ")"
	}
	names := stateNames[portalapi.State(state)]
	v.StateVI, v.StateEN = names[0], names[1]
	v.Received = local(received)
	v.Due = parseTime(due).In(vietnam).Format("02/01/2006")
	rows, err := s.db.QueryContext(ctx, `SELECT state, note, at, officer, agency FROM events WHERE submission_id = ? ORDER BY seq`, id)
	if err != nil {
		return v, err
	}
	defer rows.Close()
	for rows.Next() {
		var st, note, at, officer, agency string
		if err := rows.Scan(&st, &note, &at, &officer, &agency); err != nil {
			return v, err
		}
		n := stateNames[portalapi.State(st)]
		v.History = append(v.History, trackEvent{At: local(at), StateVI: n[0], StateEN: n[1], Note: note,
			Officer: officer, Agency: agency})
	}
	return v, rows.Err()
}

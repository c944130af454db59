package telex_test

import (
	"fmt"

	"github.com/motcua/motcua/agent/telex"
)

// A UI wrapper intercepts each key of its entry, feeds it to the entry's
// Composer and shows the whole text it gets back, with the cursor at the
// end. Keys change letters already shown: vieet then j gives việt.
func ExampleComposer() {
	c := telex.NewComposer(telex.StyleClassic)
	c.SetText("Họ tên: ") // what the entry already holds
	for _, r := range "Nguyeenx Vieetj" {
		text := c.Key(r)
		if r == 'x' || r == 'j' {
			fmt.Println(text)
		}
	}
	fmt.Println(c.Backspace())
	// Output:
	// Họ tên: Nguyễn
	// Họ tên: Nguyễn Việt
	// Họ tên: Nguyễn Việ
}

func ExampleConvert() {
	fmt.Println(telex.Convert("Nguyeenx Thij Huwowngf, DDawks Lawks", telex.StyleClassic))
	fmt.Println(telex.Convert("hoaf thuyr", telex.StyleClassic))
	fmt.Println(telex.Convert("hoaf thuyr", telex.StyleModern))
	// Output:
	// Nguyễn Thị Hường, Đắk Lắk
	// hòa thủy
	// hoà thuỷ
}

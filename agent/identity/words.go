package identity

import "github.com/motcua/motcua/agent/numwords"

// Words returns the date in Vietnamese words, as a birth certificate writes
// a date of birth: "Ngày mười lăm, tháng một, năm hai nghìn không trăm hai
// mươi tư".
func (d Date) Words() string {
	month := numwords.Words(uint64(d.Month), numwords.North)
	if d.Month == 4 {
		month = "tư"
	}
	return "Ngày " + numwords.Words(uint64(d.Day), numwords.North) + ", tháng " + month + ", năm " +
		numwords.Words(uint64(d.Year), numwords.North)
}

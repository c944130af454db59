package identity

import (
	"fmt"
	"strings"

	"github.com/motcua/motcua/agent/i18n"
)

// CitizenID is a validated 12-digit citizen identification number (số định
// danh cá nhân), as printed on the chip-based ID card (Circular
// 59/2021/TT-BCA, art. 4): 3 digits for the province where the birth was
// registered, 1 digit for sex and century of birth, 2 digits for the year of
// birth, 6 random digits.
type CitizenID string

// provinces maps the province codes of birth registration to their names:
// the 63 provinces of Circular 59/2021/TT-BCA's appendix. The 2025 merger of
// provinces did not renumber IDs already issued, and an ID encodes where the
// birth was registered, so the table keeps the 63 codes.
var provinces = map[string]string{
	"001": "Hà Nội", "002": "Hà Giang", "004": "Cao Bằng", "006": "Bắc Kạn", "008": "Tuyên Quang",
	"010": "Lào Cai", "011": "Điện Biên", "012": "Lai Châu", "014": "Sơn La", "015": "Yên Bái",
	"017": "Hòa Bình", "019": "Thái Nguyên", "020": "Lạng Sơn", "022": "Quảng Ninh", "024": "Bắc Giang",
	"025": "Phú Thọ", "026": "Vĩnh Phúc", "027": "Bắc Ninh", "030": "Hải Dương", "031": "Hải Phòng",
	"033": "Hưng Yên", "034": "Thái Bình", "035": "Hà Nam", "036": "Nam Định", "037": "Ninh Bình",
	"038": "Thanh Hóa", "040": "Nghệ An", "042": "Hà Tĩnh", "044": "Quảng Bình", "045": "Quảng Trị",
	"046": "Thừa Thiên Huế", "048": "Đà Nẵng", "049": "Quảng Nam", "051": "Quảng Ngãi", "052": "Bình Định",
	"054": "Phú Yên", "056": "Khánh Hòa", "058": "Ninh Thuận", "060": "Bình Thuận", "062": "Kon Tum",
	"064": "Gia Lai", "066": "Đắk Lắk", "067": "Đắk Nông", "068": "Lâm Đồng", "070": "Bình Phước",
	"072": "Tây Ninh", "074": "Bình Dương", "075": "Đồng Nai", "077": "Bà Rịa - Vũng Tàu", "079": "TP Hồ Chí Minh",
	"080": "Long An", "082": "Tiền Giang", "083": "Bến Tre", "084": "Trà Vinh", "086": "Vĩnh Long",
	"087": "Đồng Tháp", "089": "An Giang", "091": "Kiên Giang", "092": "Cần Thơ", "093": "Hậu Giang",
	"094": "Sóc Trăng", "095": "Bạc Liêu", "096": "Cà Mau",
}

// ParseCitizenID validates s as a citizen ID. Spaces and dots between digit
// groups ("001 095 012 345") are removed.
func ParseCitizenID(s string) (CitizenID, error) {
	t := strings.TrimSpace(s)
	t = strings.NewReplacer(" ", "", ".", "").Replace(t)
	for i, r := range t {
		if r < '0' || r > '9' {
			return "", newErr(ErrInvalidID, "invalid_citizen_id",
				"Số định danh chỉ gồm chữ số; ký tự %q ở vị trí %d không hợp lệ",
				"citizen ID must be digits only; %q at position %d is not", string(r), i+1)
		}
	}
	if n := len(t); n != 12 {
		return "", newErr(ErrInvalidID, "invalid_citizen_id",
			"Số định danh phải có đúng 12 chữ số (nhận được %d)",
			"citizen ID must have exactly 12 digits (got %d)", n)
	}
	if _, ok := provinces[t[:3]]; !ok {
		return "", newErr(ErrInvalidID, "invalid_citizen_id",
			"Số định danh %s bắt đầu bằng %s, không phải mã tỉnh nào",
			"citizen ID %s starts with %s, which is no province code", t, t[:3])
	}
	return CitizenID(t), nil
}

// ProvinceCode returns the 3-digit code of the province of birth
// registration.
func (id CitizenID) ProvinceCode() string { return string(id[:3]) }

// ProvinceName returns that province's Vietnamese name.
func (id CitizenID) ProvinceName() string { return provinces[id.ProvinceCode()] }

// Sex returns the sex the ID encodes: even 4th digit male, odd female.
func (id CitizenID) Sex() Sex {
	if (id[3]-'0')%2 == 0 {
		return Male
	}
	return Female
}

// BirthYear returns the year of birth the ID encodes: the 4th digit gives
// the century (0/1 1900s, 2/3 2000s, 4/5 2100s, ...), digits 5 and 6 the
// year within it.
func (id CitizenID) BirthYear() int {
	century := 1900 + int((id[3]-'0')/2)*100
	return century + int(id[4]-'0')*10 + int(id[5]-'0')
}

// Spoken returns the digits spaced in groups of three, for speech synthesis,
// which would otherwise read the ID as one large number.
func (id CitizenID) Spoken() string {
	var groups []string
	for i := 0; i < len(id); i += 3 {
		g := string(id[i:min(i+3, len(id))])
		groups = append(groups, strings.Join(strings.Split(g, ""), " "))
	}
	return strings.Join(groups, ", ")
}

// Masked returns the ID with all but its first and last three digits
// hidden, for logs and receipts.
func (id CitizenID) Masked() string {
	if len(id) < 6 {
		return strings.Repeat("*", len(id))
	}
	return string(id[:3]) + strings.Repeat("*", len(id)-6) + string(id[len(id)-3:])
}

// CheckID checks the ID against the date of birth and, when sex is not
// empty, the sex of the same person. The error names each disagreement.
func CheckID(id CitizenID, dob Date, sex Sex) error {
	var vi, en []string
	if y := id.BirthYear(); y != dob.Year {
		vi = append(vi, fmt.Sprintf("ghi năm sinh %d nhưng ngày sinh là %s", y, dob))
		en = append(en, fmt.Sprintf("encodes birth year %d but the date of birth is %s", y, dob))
	}
	if sex != "" && sex != id.Sex() {
		vi = append(vi, fmt.Sprintf("ghi giới tính %s nhưng giới tính khai là %s", id.Sex().Vietnamese(), sex.Vietnamese()))
		en = append(en, fmt.Sprintf("encodes sex %s but the declared sex is %s", id.Sex(), sex))
	}
	if len(vi) == 0 {
		return nil
	}
	return newErr(ErrIDMismatch, "id_mismatch", "Số định danh %s %s", "citizen ID %s %s",
		string(id), i18n.T(strings.Join(vi, " và "), strings.Join(en, " and ")))
}

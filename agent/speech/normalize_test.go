package speech

import "testing"

func TestNormalizeVietnamese(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"date dd/mm/yyyy", "Hẹn trả kết quả 12/05/2024.", "Hẹn trả kết quả ngày mười hai tháng năm năm hai nghìn không trăm hai mươi tư."},
		{"date d/m/yyyy, April is tư", "Hạn: 1/4/2025", "Hạn: ngày một tháng tư năm hai nghìn không trăm hai mươi lăm"},
		{"date after ngày is not doubled", "Ngày 30/11/2026", "Ngày ba mươi tháng mười một năm hai nghìn không trăm hai mươi sáu"},
		{"date yyyy-mm-dd", "sinh 1948-02-29", "sinh ngày hai mươi chín tháng hai năm một nghìn chín trăm bốn mươi tám"},
		{"date dd-mm-yyyy", "01-01-2000", "ngày một tháng một năm hai nghìn"},
		{"no such day is no date", "31/02/2024", "ba mươi mốt/không hai/hai nghìn không trăm hai mươi tư"},
		{"mixed separators are no date", "12/05-2024", "mười hai/không năm-hai nghìn không trăm hai mươi tư"},
		{"time 9:30", "Mời ông bà đến lúc 9:30", "Mời ông bà đến lúc chín giờ ba mươi phút"},
		{"time 09h30", "09h30 sáng", "chín giờ ba mươi phút sáng"},
		{"time 14h05", "14h05", "mười bốn giờ năm phút"},
		{"time on the hour", "từ 7h00 đến 17h", "từ bảy giờ đến mười bảy giờ"},
		{"hour out of range is no time", "25:30", "hai mươi lăm:ba mươi"},
		{"12-digit ID digit by digit", "Số định danh 001204012345", "Số định danh không không một, hai không bốn, không một hai, ba bốn năm"},
		{"9-digit old ID", "CMND 123456789", "CMND một hai ba, bốn năm sáu, bảy tám chín"},
		{"10-digit phone 4-3-3", "Gọi 0912345678", "Gọi không chín một hai, ba bốn năm, sáu bảy tám"},
		{"spaced phone", "Gọi 0912 345 678", "Gọi không chín một hai, ba bốn năm, sáu bảy tám"},
		{"dotted phone", "0912.345.678", "không chín một hai, ba bốn năm, sáu bảy tám"},
		{"money with dots and đồng", "Lệ phí 50.000 đồng", "Lệ phí năm mươi nghìn đồng"},
		{"money with đ stuck on", "Phí 50000đ.", "Phí năm mươi nghìn đồng."},
		{"money millions with đ", "1.250.000 đ", "một triệu hai trăm năm mươi nghìn đồng"},
		{"money VND", "Nộp 15.000 VND", "Nộp mười lăm nghìn đồng"},
		{"money linh", "105.000đ", "một trăm linh năm nghìn đồng"},
		{"money zero hundreds in a later group", "1.005.000 đồng", "một triệu không trăm linh năm nghìn đồng"},
		{"money skips a zero group", "2.000.500 đồng", "hai triệu năm trăm đồng"},
		{"money tỷ", "3.000.000.000 đồng", "ba tỷ đồng"},
		{"đ beginning a word is no unit", "100 đi", "một trăm đi"},
		{"mốt", "21", "hai mươi mốt"},
		{"eleven is not mốt", "11", "mười một"},
		{"tư", "34", "ba mươi tư"},
		{"fourteen is not tư", "14", "mười bốn"},
		{"lăm after mười", "15", "mười lăm"},
		{"lăm after mươi", "45", "bốn mươi lăm"},
		{"năm after linh", "205", "hai trăm linh năm"},
		{"one after linh is not mốt", "101", "một trăm linh một"},
		{"four after linh is not tư", "104", "một trăm linh bốn"},
		{"ten", "10", "mười"},
		{"hundred and ten", "110", "một trăm mười"},
		{"zero", "0", "không"},
		{"thousand, full hundreds", "1005", "một nghìn không trăm linh năm"},
		{"thousand with tens", "1050", "một nghìn không trăm năm mươi"},
		{"grouped number without a unit", "1.250.000 người", "một triệu hai trăm năm mươi nghìn người"},
		{"percent", "giảm 50%", "giảm năm mươi phần trăm"},
		{"decimal comma", "3,5 km", "ba phẩy năm km"},
		{"decimal with leading zero", "2,05", "hai phẩy không năm"},
		{"leading zero code", "mã 0123", "mã không một hai ba"},
		{"international phone", "Gọi +84 912 345 678", "Gọi cộng tám tư, chín một hai, ba bốn năm, sáu bảy tám"},
		{"international phone without spaces", "+84912345678", "cộng tám tư, chín một hai, ba bốn năm, sáu bảy tám"},
		{"thứ 4 is thứ tư", "Thứ 4 và thứ 6", "Thứ tư và thứ sáu"},
		{"thứ 1 is thứ nhất", "lần thứ 1", "lần thứ nhất"},
		{"tháng 4 is tháng tư", "trong tháng 4", "trong tháng tư"},
		{"decimal percent", "lãi 2,5%", "lãi hai phẩy năm phần trăm"},
		{"whitespace folded", "  Xin   chào\n\tông bà ", "Xin chào ông bà"},
		{"no numbers", "Mời ông bà đặt thẻ căn cước lên máy đọc", "Mời ông bà đặt thẻ căn cước lên máy đọc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Normalize(tt.in, VoiceNorth); got != tt.want {
				t.Errorf("Normalize(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
		})
	}
}

// TestNormalizeSouthernDialect: the southern voice says "lẻ" and "ngàn"
// where the northern and central say "linh" and "nghìn".
func TestNormalizeSouthernDialect(t *testing.T) {
	tests := []struct {
		voice    Voice
		in, want string
	}{
		{VoiceSouth, "105.000đ", "một trăm lẻ năm ngàn đồng"},
		{VoiceSouth, "12/05/2024", "ngày mười hai tháng năm năm hai ngàn không trăm hai mươi tư"},
		{VoiceCentral, "105.000đ", "một trăm linh năm nghìn đồng"},
		{VoiceNorth, "1.001", "một nghìn không trăm linh một"},
	}
	for _, tt := range tests {
		if got := Normalize(tt.in, tt.voice); got != tt.want {
			t.Errorf("Normalize(%q, %s) = %q, want %q", tt.in, tt.voice, got, tt.want)
		}
	}
}

func TestNormalizeEnglish(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"date dd/mm/yyyy", "Come back on 12/05/2024.", "Come back on 12 May 2024."},
		{"date yyyy-mm-dd", "born 1948-02-29", "born 29 February 1948"},
		{"time 09h30", "at 09h30", "at 9:30"},
		{"time on the hour", "at 7h00", "at 7 o'clock"},
		{"ID spaced", "ID 001204012345", "ID 0 0 1, 2 0 4, 0 1 2, 3 4 5"},
		{"phone spaced", "call 0912 345 678", "call 0 9 1 2, 3 4 5, 6 7 8"},
		{"money", "The fee is 50.000 đồng", "The fee is 50000 dong"},
		{"money đ", "1.250.000đ", "1250000 dong"},
		{"plain numbers left to the engine", "3 pages", "3 pages"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Normalize(tt.in, VoiceEnglish); got != tt.want {
				t.Errorf("Normalize(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestRateSteps(t *testing.T) {
	var percents, wpm []int
	for r := RateSlowest; r <= RateFastest; r++ {
		percents = append(percents, r.Percent())
		wpm = append(wpm, r.WPM())
	}
	wantPct := []int{50, 63, 79, 100, 126, 159, 200}
	wantWPM := []int{65, 82, 103, 130, 164, 206, 260}
	for i := range wantPct {
		if percents[i] != wantPct[i] || wpm[i] != wantWPM[i] {
			t.Fatalf("steps: %v%% at %v wpm, want %v%% at %v wpm", percents, wpm, wantPct, wantWPM)
		}
	}
	for _, s := range []string{"0", "8", "x", ""} {
		if _, err := ParseRate(s); err == nil {
			t.Errorf("ParseRate(%q) accepted", s)
		}
	}
	if _, err := ParseVoice("vi-north"); err == nil {
		t.Error(`ParseVoice("vi-north") accepted`)
	}
}

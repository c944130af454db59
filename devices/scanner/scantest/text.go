// Package scantest provides a rendered Vietnamese test page, scan-like
// degradation, and OCR-based legibility measurement for the scanner's
// compression tests and benchmarks: it is to package scanner what
// net/http/httptest is to net/http.
//
// A typical test renders Text with RenderPage at 200 dpi and 11 pt, makes it
// look scanned with Degrade, compresses and decompresses it, and compares
// Accuracy(Text, OCR(page)) before and after compression.
package scantest

// Text is the Vietnamese test text: a citizen's application to a ward
// People's Committee for birth registration and permanent residence, which
// fills about three-fifths of an A4 page at 11 pt. It has names, dates, an
// address, ID numbers and amounts, and the whole alphabet: ă â đ ê ô ơ ư and
// each of the five tones on each of the twelve vowels in lower case, the
// same letters and all five tones in upper case. It is in NFC. Paragraphs
// are separated by a blank line; a single newline is a space.
const Text = `CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM

Độc lập - Tự do - Hạnh phúc

ĐƠN ĐỀ NGHỊ ĐĂNG KÝ KHAI SINH KIÊM ĐĂNG KÝ THƯỜNG TRÚ

Kính gửi: Ủy ban nhân dân phường Ỷ La, thành phố Tuyên Quang, tỉnh Tuyên Quang.

Tôi tên là NGUYỄN THỊ ÁNH TUYẾT, sinh ngày 15/08/1995, số định danh cá nhân
001095012345, cấp ngày 23/04/2021. Hiện tôi đang ở tại số nhà 27, ngõ 4, đường Lê Duẩn,
tổ 12, phường Ỷ La. Số điện thoại: 0912 345 678.

Tôi kính đề nghị Ủy ban nhân dân phường đăng ký khai sinh cho con tôi là cháu TRẦN NGỌC
BẢO TRÂN, sinh ngày 02/09/2024 tại Trạm y tế phường, giới tính nữ, dân tộc Kinh, quốc
tịch Việt Nam. Cha của cháu là anh TRẦN ĐỨC MẠNH, sinh ngày 07/11/1992, số định danh cá
nhân 008092004567, kỹ sư xây dựng. Cháu là con thứ hai; bé đầu lòng còn nhỏ, cũng ở cùng gia đình.

Đồng thời, tôi đề nghị đăng ký thường trú cho cháu tại chỗ ở hợp pháp nêu trên. Căn nhà
do ông nội của cháu là ông TRẦN VĂN KỶ đứng tên. Ông Kỷ đã đồng ý bằng văn bản để trẻ em
được nhập hộ khẩu và sẵn sàng có mặt khi cơ quan cần xác minh.

Kèm theo đơn này là giấy chứng sinh, bản sao giấy chứng nhận kết hôn và văn bản đồng ý
của chủ hộ. Tôi đã nộp lệ phí 20.000 đồng (hai mươi nghìn đồng) theo biên lai số 0002371.
Khi tôi vắng mặt, người đi làm thủ tục thay là chị Lò Thị Mỵ, em họ của tôi.

Tôi xin cam đoan những nội dung khai trên là đúng sự thật, được cha mẹ cháu thống nhất, và chịu trách nhiệm trước pháp
luật về lời khai của mình; tôi khẳng định sẽ thực hiện đầy đủ nghĩa vụ khai báo cư trú
theo định kỳ. Nếu có thắc mắc, xin quý cơ quan hướng dẫn và giúp đỡ để tôi vừa kịp bổ sung.

Tuyên Quang, ngày 20 tháng 9 năm 2024

NGƯỜI LÀM ĐƠN

Nguyễn Thị Ánh Tuyết`

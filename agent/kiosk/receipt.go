package kiosk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/motcua/motcua/agent/application"
	"github.com/motcua/motcua/agent/device"
	"github.com/motcua/motcua/agent/i18n"
	"github.com/motcua/motcua/agent/procedure"
	"github.com/motcua/motcua/agent/store"
)

// textOf is err's bilingual message: its own when it has one.
func textOf(err error) i18n.Text {
	var ie *i18n.Error
	if errors.As(err, &ie) {
		return ie.Msg
	}
	return i18n.T(err.Error(), err.Error())
}

// Receipt builds application appID's receipt.
func (s *Service) Receipt(ctx context.Context, appID int64) (device.Receipt, error) {
	a, err := s.get(ctx, appID)
	if err != nil {
		return device.Receipt{}, err
	}
	return s.receiptFor(a), nil
}

// get reads application id, wrapping ErrNotFound for one that does not exist.
func (s *Service) get(ctx context.Context, id int64) (*application.Application, error) {
	a, err := s.cfg.Store.Get(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, &i18n.Error{Code: "not_found", Msg: i18n.Tf("Không tìm thấy hồ sơ số %d", "no application %d", id),
			Err: fmt.Errorf("application %d: %w", id, errors.Join(ErrNotFound, err))}
	}
	return a, err
}

// Print prints application appID's receipt on the configured printer.
func (s *Service) Print(ctx context.Context, appID int64) error {
	if s.cfg.Printer == nil {
		return &i18n.Error{Code: "no_printer", Msg: i18n.T("Máy này không có máy in biên nhận; vui lòng nhờ cán bộ hỗ trợ",
			"this kiosk has no receipt printer"), Err: fmt.Errorf("print receipt %d: %w", appID, ErrNoPrinter)}
	}
	r, err := s.Receipt(ctx, appID)
	if err != nil {
		return err
	}
	if err := s.cfg.Printer.Print(ctx, r); err != nil {
		return fmt.Errorf("print receipt %d: %w", appID, err)
	}
	return nil
}

// receiptFor builds the receipt of application a. The QR code opens the
// link TrackURL makes from its file code and idempotency key; without one
// (no portal, or a kiosk not yet enrolled) there is no QR code.
func (s *Service) receiptFor(a *application.Application) device.Receipt {
	r := device.Receipt{Procedure: a.ProcedureID, LocalID: a.ID, FileCode: a.FileCode, At: a.CreatedAt}
	var due string
	if p, err := s.cfg.Catalog.Lookup(a.ProcedureID); err == nil {
		r.Procedure = p.Name.VI
		if p.Code != "" {
			r.Procedure += " (" + p.Code + ")"
		}
		r.Applicant = ApplicantName(a.Form, p)
		if p.ProcessingDays > 0 {
			due = fmt.Sprintf("Thời gian giải quyết: %d ngày làm việc.", p.ProcessingDays)
		}
	}
	switch a.State {
	case application.Queued, application.Sending, application.Ready, application.Draft:
		r.NextSteps = append(r.NextSteps, "Hồ sơ đã được lưu và sẽ tự động gửi lên Cổng dịch vụ công khi có mạng.")
	default:
		r.NextSteps = append(r.NextSteps, "Tình trạng: "+a.State.Label().VI+".")
	}
	if due != "" {
		r.NextSteps = append(r.NextSteps, due)
	}
	if s.cfg.TrackURL != nil {
		r.TrackURL = s.cfg.TrackURL(a.FileCode, a.IdempotencyKey)
	}
	if r.TrackURL != "" {
		r.NextSteps = append(r.NextSteps, "Giữ biên nhận này; quét mã QR để tra cứu hồ sơ.")
	} else {
		r.NextSteps = append(r.NextSteps, "Giữ biên nhận này để tra cứu hồ sơ.")
	}
	return r
}

// ApplicantName finds the applicant in a stored form: the first person
// block that the ID card fills, else the first name field.
func ApplicantName(form json.RawMessage, p *procedure.Procedure) string {
	var vals map[string]json.RawMessage
	if json.Unmarshal(form, &vals) != nil {
		return ""
	}
	for _, f := range p.Fields() {
		if f.Type == procedure.TypePerson && f.CardFill == procedure.CardPerson {
			var pv procedure.PersonValue
			if json.Unmarshal(vals[f.Key], &pv) == nil && pv.FullName != "" {
				return pv.FullName
			}
		}
	}
	for _, f := range p.Fields() {
		if f.Type == procedure.TypeName {
			var s string
			if json.Unmarshal(vals[f.Key], &s) == nil && s != "" {
				return s
			}
		}
	}
	return ""
}

// TrackResult is a tracked application.
type TrackResult struct {
	App *application.Application
	// Fresh is true when the portal was asked just now; false, App is as
	// the kiosk last knew it.
	Fresh bool
	// At is when the state shown was known: now when Fresh, else when the
	// kiosk last changed the application (its last pull that touched it).
	At time.Time
}

// trackPrefix is the tracking page's path on the portal (sync/portalapi's
// PathTrack): /track/FILECODE, or /track/DEVICEID/KEY before the portal has
// the file.
const trackPrefix = "/track/"

// Track finds an application by its portal file code, its local number, or
// the link of its receipt's QR code (.../track/FILECODE or
// .../track/DEVICEID/KEY). With a Tracker it first asks the portal for news;
// when that fails it answers from what the kiosk last pulled.
func (s *Service) Track(ctx context.Context, codeOrURL string) (TrackResult, error) {
	q := strings.TrimSpace(codeOrURL)
	notFound := func(err error) error {
		return &i18n.Error{Code: "not_found", Msg: i18n.Tf("Không tìm thấy hồ sơ %q", "no application matches %q", q),
			Err: fmt.Errorf("track %q: %w", q, errors.Join(ErrNotFound, err))}
	}
	if q == "" {
		return TrackResult{}, notFound(nil)
	}
	var res TrackResult
	if s.cfg.Tracker != nil {
		if _, err := s.cfg.Tracker.PullStatus(ctx); err != nil {
			s.log.Warn("track: the portal did not answer; showing the last known state", "err", err)
		} else {
			res.Fresh = true
		}
	}
	a, err := s.find(ctx, q)
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, ErrNotFound) {
		return TrackResult{}, notFound(err)
	}
	if err != nil {
		return TrackResult{}, fmt.Errorf("track %q: %w", q, err)
	}
	res.App, res.At = a, a.UpdatedAt
	if res.Fresh {
		res.At = s.cfg.Now()
	}
	return res, nil
}

// find looks q up as a tracking link, a local number, then a file code.
func (s *Service) find(ctx context.Context, q string) (*application.Application, error) {
	if i := strings.Index(q, trackPrefix); i >= 0 {
		rest := q[i+len(trackPrefix):]
		if u, err := url.Parse(q); err == nil && strings.Contains(u.Path, trackPrefix) {
			rest = u.Path[strings.Index(u.Path, trackPrefix)+len(trackPrefix):]
			if p, err := url.PathUnescape(rest); err == nil {
				rest = p
			}
		}
		parts := strings.Split(strings.Trim(rest, "/"), "/")
		switch len(parts) {
		case 1:
			return s.byFileCode(ctx, parts[0])
		case 2:
			return s.cfg.Store.FindByKey(ctx, parts[1])
		}
		return nil, fmt.Errorf("%w: %q is not a tracking link", ErrNotFound, q)
	}
	if id, err := strconv.ParseInt(q, 10, 64); err == nil && id > 0 {
		a, err := s.cfg.Store.Get(ctx, id)
		if !errors.Is(err, store.ErrNotFound) {
			return a, err
		}
	}
	return s.byFileCode(ctx, q)
}

func (s *Service) byFileCode(ctx context.Context, code string) (*application.Application, error) {
	list, err := s.cfg.Store.List(ctx, store.ListOptions{})
	if err != nil {
		return nil, err
	}
	for _, sm := range list {
		if sm.FileCode != "" && strings.EqualFold(sm.FileCode, code) {
			return s.cfg.Store.Get(ctx, sm.ID)
		}
	}
	return nil, fmt.Errorf("file code %q: %w", code, ErrNotFound)
}

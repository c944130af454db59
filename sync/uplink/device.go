package uplink

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"path/filepath"

	"github.com/motcua/motcua/agent/store"
	"github.com/motcua/motcua/sync/portalapi"
)

// EnrolledDevice returns the device id that the portal at portalURL issued
// to the kiosk whose store is st, or "" when the kiosk has not enrolled with
// that portal. A receipt printed before delivery links to the tracking page
// by this id and the idempotency key (portalapi.TrackPath).
func EnrolledDevice(ctx context.Context, st *store.Store, portalURL string) (string, error) {
	base, err := CheckPortalURL(portalURL, true)
	if err != nil {
		return "", err
	}
	enrolled, err := st.Setting(ctx, settingPortal)
	if err != nil {
		return "", fmt.Errorf("enrolled device: %w", err)
	}
	if !samePortalURL(enrolled, base) {
		return "", nil
	}
	device, err := st.Setting(ctx, settingDevice)
	if err != nil {
		return "", fmt.Errorf("enrolled device: %w", err)
	}
	return device, nil
}

// settingEnrolledPortal is the portal staff enrolled the kiosk with
// (Enroll, motcua enroll): delivery goes there when no portal is given.
const settingEnrolledPortal = "uplink.enrolled_portal"

// settingEnrolledCA is the CA file pinned when staff enrolled the kiosk.
const settingEnrolledCA = "uplink.enrolled_portal_ca"

// EnrolledPortal returns the URL of the portal staff enrolled the kiosk
// whose store is st with (Worker.Enroll), or "" when they did not.
func EnrolledPortal(ctx context.Context, st *store.Store) (string, error) {
	u, _, err := EnrolledPortalCA(ctx, st)
	return u, err
}

// EnrolledPortalCA is EnrolledPortal with the CA file pinned then ("" for
// none).
func EnrolledPortalCA(ctx context.Context, st *store.Store) (portal, ca string, err error) {
	if portal, err = st.Setting(ctx, settingEnrolledPortal); err == nil {
		ca, err = st.Setting(ctx, settingEnrolledCA)
	}
	if err != nil {
		return "", "", fmt.Errorf("enrolled portal: %w", err)
	}
	return portal, ca, nil
}

// Enrollment is what Enroll tells of the kiosk's enrollment.
type Enrollment struct {
	Portal     string `json:"portal"`
	DeviceID   string `json:"device_id"`
	AgencyCode string `json:"agency_code"`
	Instance   string `json:"instance"`
	// Key names the device's public key (portalapi.KeyFingerprint).
	Key string `json:"key"`
}

// Enroll enrolls the kiosk with the portal now, with Config.EnrollCode,
// and records the portal, and the CA file pinned (Config.PortalCA), as the
// one to deliver to. A kiosk enrolled there
// before keeps its device id by its key's signature, and spends no code.
func (w *Worker) Enroll(ctx context.Context) (Enrollment, error) {
	w.reclaim = true
	if err := w.enroll(ctx); err != nil {
		return Enrollment{}, err
	}
	st := w.cfg.Store
	ca := w.cfg.PortalCA
	if ca != "" {
		if abs, err := filepath.Abs(ca); err == nil {
			ca = abs
		}
	}
	if err := st.SetSetting(ctx, settingEnrolledCA, ca); err != nil {
		return Enrollment{}, err
	}
	if err := st.SetSetting(ctx, settingEnrolledPortal, w.base.String()); err != nil {
		return Enrollment{}, err
	}
	agency, err := st.Setting(ctx, settingAgency)
	if err != nil {
		return Enrollment{}, err
	}
	key, err := w.deviceKey()
	if err != nil {
		return Enrollment{}, err
	}
	return Enrollment{Portal: w.base.String(), DeviceID: w.deviceID, AgencyCode: agency, Instance: w.instance,
		Key: portalapi.KeyFingerprint(key.Public().(ed25519.PublicKey))}, nil
}

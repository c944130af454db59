package uplink

import (
	"context"
	"fmt"

	"github.com/motcua/motcua/agent/store"
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

package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/motcua/motcua/sync/portalapi"
)

// enrollDevice enrolls a device named name with the portal at portalURL as
// a kiosk does (a key of its own, the enrollment signed), with code if
// given, and returns the portal's answer and the device's key.
func enrollDevice(t *testing.T, client *http.Client, portalURL, name, code string) (portalapi.EnrollResponse, ed25519.PrivateKey, int) {
	t.Helper()
	resp, err := client.Get(portalURL + portalapi.PathHealth)
	if err != nil {
		t.Fatal(err)
	}
	var h portalapi.Health
	json.NewDecoder(resp.Body).Decode(&h)
	resp.Body.Close()
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	er := portalapi.EnrollRequest{DeviceName: name, Code: code, PublicKey: portalapi.EncodePublicKey(key.Public().(ed25519.PublicKey)),
		SignedAt: time.Now()}
	er.Signature = portalapi.Sign(key, portalapi.EnrollMessage(h.Instance, er))
	b, _ := json.Marshal(er)
	resp, err = client.Post(portalURL+portalapi.PathEnroll, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var enrolled portalapi.EnrollResponse
	json.NewDecoder(resp.Body).Decode(&enrolled)
	return enrolled, key, resp.StatusCode
}

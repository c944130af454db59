package uplink

import (
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/motcua/motcua/agent/procedure"
	"github.com/motcua/motcua/sync/portalapi"
)

// PullCatalog fetches the portal's procedure catalog when it is newer than
// the kiosk's, checks it and keeps it, so that the next capture uses it. A
// catalog that does not pass procedure.Parse is refused, never stored.
func (w *Worker) PullCatalog(ctx context.Context) error {
	stored, err := w.cfg.Store.Catalogs(ctx)
	if err != nil {
		return err
	}
	have, err := procedure.Current(stored)
	if err != nil {
		return err
	}
	req, err := w.request(ctx, http.MethodGet, w.endpoint(portalapi.PathCatalog), nil)
	if err != nil {
		return err
	}
	req.Header.Set("If-None-Match", `"`+have.Version+`"`)
	resp, err := w.do(req)
	if err != nil {
		return err
	}
	switch resp.StatusCode {
	case http.StatusNotModified:
		drain(resp)
		return nil
	case http.StatusOK:
	default:
		return w.statusError(resp, "pull catalog")
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	resp.Body.Close()
	if err != nil {
		return &linkError{err}
	}
	cat, err := procedure.Parse(data)
	if err != nil {
		return fmt.Errorf("pull catalog: the portal's catalog is refused: %w", err)
	}
	if !procedure.Newer(cat.Version, have.Version) {
		return nil
	}
	if err := w.cfg.Store.SaveCatalog(ctx, cat.Version, data); err != nil {
		return err
	}
	w.log.Info("new procedure catalog", "version", cat.Version, "procedures", len(cat.Procedures))
	return nil
}

package procedure

// Current returns the newest valid catalog among the embedded one and
// stored, catalogs pulled from the portal by version. A stored catalog that
// no longer parses is passed over: capture never stops for a bad download.
func Current(stored map[string][]byte) (*Catalog, error) {
	best, err := Embedded()
	if err != nil {
		return nil, err
	}
	for v, data := range stored {
		if !Newer(v, best.Version) {
			continue
		}
		if cat, err := Parse(data); err == nil && cat.Version == v {
			best = cat
		}
	}
	return best, nil
}

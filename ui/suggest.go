package ui

import (
	"strings"

	"github.com/motcua/motcua/agent/procedure"
	"github.com/motcua/motcua/ui/widgets"
)

// Presentation defaults and suggestions. They save the citizen typing and
// are never rules: a default is an ordinary value the citizen can change,
// and the session checks every value as it checks a typed one.

// textDefaults fill a required text field left empty, by the end of its
// key: most citizens at a Vietnamese kiosk are Vietnamese, and most are
// Kinh.
var textDefaults = []struct{ suffix, value string }{
	{"_nationality", "Việt Nam"},
	{"_ethnicity", "Kinh"},
}

// commonEthnicities are offered as chips on ethnicity fields: the most
// numerous of Vietnam's 54 ethnic groups.
var commonEthnicities = []string{"Kinh", "Tày", "Thái", "Mường", "Khmer", "Hoa", "Nùng", "H'Mông"}

// placeKeys mark the text fields that name a place of origin (quê quán,
// nơi sinh), where the requester's home province is a likely answer.
var placeKeys = []string{"hometown", "birthplace"}

// applyDefault sets f's default when it is required, empty and has one.
func (u *UI) applyDefault(f *procedure.Field) {
	if f.Type != procedure.TypeText || !f.Required {
		return
	}
	if v, ok := u.ss.Value(f.Key); ok && v != "" && v != nil {
		return
	}
	for _, d := range textDefaults {
		if strings.HasSuffix(f.Key, d.suffix) {
			if err := u.ss.Set(f.Key, d.value); err != nil {
				u.log.Warn("default value refused", "field", f.Key, "err", err)
			}
			return
		}
	}
}

// suggestions are the values f can take with one tap.
func (u *UI) suggestions(f *procedure.Field) []widgets.Suggestion {
	var out []widgets.Suggestion
	p := u.ss.Procedure()
	seen := map[string]bool{}
	add := func(s widgets.Suggestion) {
		key, _ := s.Value.(string)
		if pv, ok := s.Value.(procedure.PersonValue); ok {
			key = pv.FullName + pv.CitizenID
		}
		if key == "" || seen[key] {
			return
		}
		seen[key] = true
		out = append(out, s)
	}
	switch f.Type {
	case procedure.TypeName:
		// The family names already given: a child usually takes a
		// parent's.
		for _, o := range p.Fields() {
			if o.Key == f.Key {
				continue
			}
			v, _ := u.ss.Value(o.Key)
			name := ""
			switch x := v.(type) {
			case string:
				if o.Type == procedure.TypeName {
					name = x
				}
			case procedure.PersonValue:
				name = x.FullName
			}
			if family, _, ok := strings.Cut(strings.TrimSpace(name), " "); ok {
				add(widgets.Suggestion{Label: u.t("Họ ", "Surname ") + family + " …", Value: family, Prefix: true})
			}
		}
	case procedure.TypeAddress:
		if f.CardFill != procedure.CardNone {
			break
		}
		for _, o := range p.Fields() {
			if o.Key == f.Key || o.Type != procedure.TypeAddress {
				continue
			}
			if v, ok := u.ss.Value(o.Key); ok {
				if s, _ := v.(string); s != "" {
					add(widgets.Suggestion{Label: u.t("Giống: ", "Same as: ") + o.Label.In(u.lang), Value: s})
				}
			}
		}
	case procedure.TypePerson:
		if f.CardFill == procedure.CardPerson {
			break
		}
		for _, o := range p.Fields() {
			if o.Key != f.Key && o.Type == procedure.TypePerson && o.CardFill == procedure.CardPerson {
				if v, ok := u.ss.Value(o.Key); ok {
					if pv, _ := v.(procedure.PersonValue); pv.FullName != "" {
						add(widgets.Suggestion{Label: u.t("Giống: ", "Same as: ") + o.Label.In(u.lang), Value: pv})
					}
				}
			}
		}
	case procedure.TypeText:
		switch {
		case strings.HasSuffix(f.Key, "_ethnicity"):
			for _, e := range commonEthnicities {
				add(widgets.Suggestion{Label: e, Value: e})
			}
		case strings.HasSuffix(f.Key, "_nationality"):
			add(widgets.Suggestion{Label: "Việt Nam", Value: "Việt Nam"})
		case containsAny(f.Key, placeKeys):
			if c := u.ss.Card(); c != nil {
				if prov := c.ID.ProvinceName(); prov != "" {
					add(widgets.Suggestion{Label: prov, Value: prov})
				}
				if i := strings.LastIndex(c.Address, ","); i >= 0 {
					prov := strings.TrimSpace(c.Address[i+1:])
					add(widgets.Suggestion{Label: prov, Value: prov})
				}
				add(widgets.Suggestion{Label: u.t("Giống nơi thường trú trên thẻ", "Same as the card's residence"), Value: c.Address})
			}
		}
	}
	return out
}

func containsAny(s string, subs []string) bool {
	for _, x := range subs {
		if strings.Contains(s, x) {
			return true
		}
	}
	return false
}

package sim

import (
	"encoding/json"
	"strconv"
	"strings"
)

// list reads a list parameter leniently: a JSON list of strings
// (["a","b"]), a JSON string, or a bare comma-separated string. It serves
// "additional", where DSM ignores what it does not know.
func (q *request) list(name string) []string {
	v := strings.TrimSpace(q.params.Get(name))
	if v == "" {
		return nil
	}
	var l []string
	if json.Unmarshal([]byte(v), &l) == nil {
		return l
	}
	var out []string
	for item := range strings.SplitSeq(q.str(name), ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// names reads a list of user or group names: a JSON list of strings, or
// one name (bare, as the reference client (N4S4/synology-api) sends User delete's name, or
// JSON-quoted). A value that starts like a JSON list or object but is not
// a list of strings is code bad; so is a missing or empty one when
// required.
func (q *request) names(name string, required bool, bad int) ([]string, error) {
	v := strings.TrimSpace(q.params.Get(name))
	if v == "" {
		if required {
			return nil, fail(bad)
		}
		return []string{}, nil
	}
	if strings.HasPrefix(v, "[") || strings.HasPrefix(v, "{") {
		var l []string
		if json.Unmarshal([]byte(v), &l) != nil {
			return nil, fail(bad)
		}
		if required && len(l) == 0 {
			return nil, fail(bad)
		}
		return l, nil
	}
	return []string{q.str(name)}, nil
}

// boolean reads a boolean parameter: true or false (bare or JSON-quoted).
// Absent gives def; anything else ("True", "1", "yes") is code bad.
func (q *request) boolean(name string, def bool, bad int) (bool, error) {
	if !q.has(name) {
		return def, nil
	}
	switch q.str(name) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, fail(bad)
}

// integer reads a decimal integer parameter; absent gives def, anything
// that is not an integer is code bad.
func (q *request) integer(name string, def, bad int) (int, error) {
	if !q.has(name) {
		return def, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(q.str(name)))
	if err != nil {
		return 0, fail(bad)
	}
	return n, nil
}

// page reads offset and limit (-1 or 0: all; missing: all from 0). A
// negative offset, a limit below -1 or a non-number is code 120.
func (q *request) page() (offset, limit int, err error) {
	if offset, err = q.integer("offset", 0, codeInvalidParameter); err != nil || offset < 0 {
		return 0, 0, fail(codeInvalidParameter)
	}
	if limit, err = q.integer("limit", -1, codeInvalidParameter); err != nil || limit < -1 {
		return 0, 0, fail(codeInvalidParameter)
	}
	return offset, limit, nil
}

// pageOf cuts items[offset:offset+limit], limit <= 0 meaning all.
func pageOf[T any](items []T, offset, limit int) []T {
	if offset >= len(items) {
		return []T{}
	}
	items = items[offset:]
	if limit > 0 && limit < len(items) {
		items = items[:limit]
	}
	return items
}

// localType checks the type parameter of list calls: absent or "local"
// (the simulator has no domain or LDAP users); anything else is 120.
func (q *request) localType() error {
	if t := q.str("type"); t != "" && t != "local" {
		return fail(codeInvalidParameter)
	}
	return nil
}

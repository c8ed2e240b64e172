package dsm

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Share name rules. DSM's own limits for shared folder names are not in
// the sources this package was written from: the length and the
// characters below are a choice, the group name rules of DSM 7, and the
// simulator keeps the same (rules_agreement_test.go).
const (
	// MaxShareNameLength is the longest shared folder name, in Unicode
	// characters (a choice, see above).
	MaxShareNameLength = 32
	// ShareNameForbiddenChars are the characters a shared folder name
	// may not hold (a choice, see above).
	ShareNameForbiddenChars = GroupNameForbiddenChars
)

// ValidateShareName checks a shared folder name: not empty, at most
// MaxShareNameLength characters of valid UTF-8, no control character,
// none of ShareNameForbiddenChars, not starting with "-" or a space, not
// ending with a space.
func ValidateShareName(name string) error {
	return validateName("shared folder", name, MaxShareNameLength, ShareNameForbiddenChars)
}

// ValidateVolume checks a volume's path as DSM takes it for a shared
// folder or the home service: "/volume1", not "volume1" (DSM answers 3101
// to a bare name: batonogov/terraform-provider-synology-dsm user_home.go).
func ValidateVolume(path string) error {
	rest, ok := strings.CutPrefix(path, "/volume")
	if !ok || rest == "" || strings.ContainsAny(rest, "/ \t\r\n") {
		if v, bare := strings.CutPrefix(path, "volume"); bare && v != "" {
			return invalid("%q is a volume name, DSM wants its path: write /%s", path, path)
		}
		return invalid("%q is not a volume path such as /volume1", path)
	}
	return nil
}

// Share is a shared folder.
type Share struct {
	Name string `json:"name"`
	// Volume is the path of its volume, such as /volume1 (vol_path).
	Volume string `json:"volume"`
	// Path is the folder's path: Volume/Name.
	Path        string `json:"path"`
	Description string `json:"description"`
	// Hidden hides it from "My Network Places" (hidden).
	Hidden bool `json:"hidden"`
	// RecycleBin is the share's recycle bin (enable_recycle_bin).
	RecycleBin bool `json:"recycle_bin"`
	// UUID is DSM's id of the folder, when it sends one.
	UUID string `json:"uuid,omitempty"`
}

// shareWire is a share as SYNO.Core.Share sends it (batonogov share.go:
// name, desc, vol_path, uuid, hidden, and the recycle bin as
// enable_recycle_bin or, in its tests, recyclebin; go-synology Share).
type shareWire struct {
	Name             string    `json:"name"`
	Desc             string    `json:"desc"`
	VolPath          string    `json:"vol_path"`
	UUID             string    `json:"uuid"`
	Hidden           flexBool  `json:"hidden"`
	EnableRecycleBin *flexBool `json:"enable_recycle_bin"`
	RecycleBin       *flexBool `json:"recyclebin"`
}

func (w shareWire) share() Share {
	s := Share{Name: w.Name, Volume: w.VolPath, Description: w.Desc, Hidden: bool(w.Hidden), UUID: w.UUID}
	switch {
	case w.EnableRecycleBin != nil:
		s.RecycleBin = bool(*w.EnableRecycleBin)
	case w.RecycleBin != nil:
		s.RecycleBin = bool(*w.RecycleBin)
	}
	if s.Volume != "" {
		s.Path = strings.TrimSuffix(s.Volume, "/") + "/" + s.Name
	}
	return s
}

// shareAdditional asks for the fields DSM sends only when asked
// (batonogov share.go: "recyclebin" is DSM's spelling of the request).
var shareAdditional = []string{"hidden", "recyclebin"}

// ErrNoSuchShare matches a *NotFoundError of a shared folder.
var ErrNoSuchShare = errors.New("dsm: no such shared folder")

// NotFoundError reports a thing the NAS does not have, established by the
// library from what DSM listed (DSM has no documented "no such shared
// folder" code: batonogov notfound_test.go). A shared folder's matches
// ErrNoSuchShare.
type NotFoundError struct {
	// Kind is what was looked for, such as "shared folder".
	Kind string
	Name string
}

// Error says what was not found.
func (e *NotFoundError) Error() string {
	return fmt.Sprintf("dsm: no %s named %q", e.Kind, e.Name)
}

// Is makes a shared folder's *NotFoundError match ErrNoSuchShare.
func (e *NotFoundError) Is(target error) bool {
	return target == ErrNoSuchShare && e.Kind == "shared folder"
}

// SharesService lists, creates and deletes shared folders
// (SYNO.Core.Share).
type SharesService struct {
	c *Client
}

// List returns every shared folder, sorted by name.
//
// DSM: SYNO.Core.Share list.
func (s *SharesService) List(ctx context.Context) ([]Share, error) {
	var d struct {
		Shares []shareWire `json:"shares"`
		Total  flexInt     `json:"total"`
	}
	// share_type "all" as go-synology names it (batonogov sends
	// shareType, which DSM seems to ignore).
	err := s.c.do(ctx, newRead("SYNO.Core.Share", "list", Params{
		"share_type": "all", "additional": shareAdditional, "offset": 0, "limit": -1,
	}, &d))
	if err != nil {
		return nil, err
	}
	out := make([]Share, len(d.Shares))
	for i, w := range d.Shares {
		out[i] = w.share()
	}
	slices.SortFunc(out, func(a, b Share) int { return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)) })
	return out, nil
}

// Get returns one shared folder. When DSM refuses the get, the list
// decides whether the folder exists: a missing one is a *NotFoundError
// (ErrNoSuchShare), any other refusal stays DSM's error.
//
// DSM: SYNO.Core.Share get (then list when it fails).
func (s *SharesService) Get(ctx context.Context, name string) (Share, error) {
	if err := ValidateShareName(name); err != nil {
		return Share{}, argError("get shared folder", err)
	}
	var d shareWire
	err := s.c.do(ctx, newRead("SYNO.Core.Share", "get", Params{"name": name, "additional": shareAdditional}, &d))
	var ae *APIError
	if errors.As(err, &ae) && ae.Code >= 3300 && ae.Code < 3400 {
		all, lerr := s.List(ctx)
		if lerr != nil {
			return Share{}, err
		}
		if !slices.ContainsFunc(all, func(sh Share) bool { return strings.EqualFold(sh.Name, name) }) {
			return Share{}, &NotFoundError{Kind: "shared folder", Name: name}
		}
	}
	if err != nil {
		return Share{}, err
	}
	sh := d.share()
	if sh.Name == "" {
		sh.Name = name
		if sh.Volume != "" {
			sh.Path = strings.TrimSuffix(sh.Volume, "/") + "/" + name
		}
	}
	return sh, nil
}

// ShareCreateRequest describes a new shared folder.
type ShareCreateRequest struct {
	Name string
	// Volume is the path of the volume, such as /volume1.
	Volume      string
	Description string
	Hidden      bool
	RecycleBin  bool
}

// Create makes a shared folder and returns it as DSM then shows it.
//
// DSM: SYNO.Core.Share create, then get.
func (s *SharesService) Create(ctx context.Context, r ShareCreateRequest) (Share, error) {
	op := "create shared folder"
	if err := ValidateShareName(r.Name); err != nil {
		return Share{}, argError(op, err)
	}
	if err := ValidateVolume(r.Volume); err != nil {
		return Share{}, argError(op+" "+r.Name, err)
	}
	if err := ValidateDescription(r.Description); err != nil {
		return Share{}, argError(op+" "+r.Name, err)
	}
	// The parameters travel in shareinfo, a JSON object, beside name
	// (batonogov share.go, go-synology ShareCreateRequest).
	info := map[string]any{
		"name": r.Name, "vol_path": r.Volume, "desc": r.Description,
		"hidden": r.Hidden, "enable_recycle_bin": r.RecycleBin, "recycle_bin_admin_only": false,
	}
	applied := func(ctx context.Context) (bool, error) {
		_, err := s.Get(ctx, r.Name)
		if errors.Is(err, ErrNoSuchShare) {
			return false, nil
		}
		return err == nil, err
	}
	if err := s.c.do(ctx, newCheckedChange("SYNO.Core.Share", "create", Params{"name": r.Name, "shareinfo": info}, nil, applied)); err != nil {
		return Share{}, err
	}
	return s.Get(ctx, r.Name)
}

// Delete removes shared folders, with their data.
//
// DSM: SYNO.Core.Share delete.
func (s *SharesService) Delete(ctx context.Context, names ...string) error {
	if len(names) == 0 {
		return argErrorf("delete shared folders", "no shared folder named")
	}
	for _, n := range names {
		if err := ValidateShareName(n); err != nil {
			return argError("delete shared folders", err)
		}
	}
	gone := func(ctx context.Context) (bool, error) {
		all, err := s.List(ctx)
		if err != nil {
			return false, err
		}
		for _, n := range names {
			if slices.ContainsFunc(all, func(sh Share) bool { return strings.EqualFold(sh.Name, n) }) {
				return false, nil
			}
		}
		return true, nil
	}
	// name is a JSON list (batonogov share.go).
	return s.c.do(ctx, newCheckedChange("SYNO.Core.Share", "delete", Params{"name": names}, nil, gone))
}

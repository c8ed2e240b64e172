package dsm

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// flexBool decodes a boolean that DSM sends as true/false, "true"/"yes",
// or 0/1.
type flexBool bool

func (b *flexBool) UnmarshalJSON(data []byte) error {
	s := strings.Trim(string(data), `"`)
	switch strings.ToLower(s) {
	case "true", "yes", "1", "on":
		*b = true
	case "false", "no", "0", "off", "", "null":
		*b = false
	default:
		if n, err := strconv.ParseFloat(s, 64); err == nil && !math.IsNaN(n) && !math.IsInf(n, 0) {
			*b = n != 0
			return nil
		}
		return errors.New("not a boolean")
	}
	return nil
}

// flexInt decodes a number that DSM sends as 12 or "12".
type flexInt int64

func (n *flexInt) UnmarshalJSON(data []byte) error {
	s := strings.Trim(string(data), `"`)
	if s == "" || s == "null" {
		*n = 0
		return nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		f, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil || f != math.Trunc(f) || math.Abs(f) > 1<<62 {
			return errors.New("not an integer")
		}
		v = int64(f)
	}
	*n = flexInt(v)
	return nil
}

// Date is a calendar day, as DSM keeps password changes and account
// expiry: without a time or a zone. The zero Date means "none".
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf returns the calendar day of t in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{y, m, d}
}

// IsZero reports whether d is the zero Date.
func (d Date) IsZero() bool { return d == Date{} }

// Time returns midnight UTC of d.
func (d Date) Time() time.Time { return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC) }

// String returns d as YYYY-MM-DD.
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day)
}

// Before reports whether d is a day before e.
func (d Date) Before(e Date) bool { return d.Time().Before(e.Time()) }

// ParseDate reads YYYY-MM-DD, or DSM's YYYY/M/D.
func ParseDate(s string) (Date, error) {
	s = strings.TrimSpace(s)
	var t time.Time
	var err error
	switch {
	case strings.Contains(s, "/"):
		t, err = time.Parse("2006/1/2", s)
	default:
		t, err = time.Parse("2006-01-02", s)
	}
	if err != nil {
		return Date{}, fmt.Errorf("%q is not a date; write YYYY-MM-DD", s)
	}
	return DateOf(t), nil
}

// dsm renders d as DSM writes dates: YYYY/M/D, no leading zeros.
func (d Date) dsm() string { return fmt.Sprintf("%d/%d/%d", d.Year, int(d.Month), d.Day) }

// maxDays is 9999-12-31 in days since 1970-01-01.
const maxDays = 2932896

// daysDate decodes a count of days since 1970-01-01, as DSM sends
// password_last_change.
type daysDate Date

func (d *daysDate) UnmarshalJSON(data []byte) error {
	var n flexInt
	if err := n.UnmarshalJSON(data); err != nil {
		return err
	}
	if n <= 0 {
		*d = daysDate{}
		return nil
	}
	if n > maxDays {
		return errors.New("a day count beyond the year 9999")
	}
	*d = daysDate(DateOf(time.Unix(int64(n)*86400, 0).UTC()))
	return nil
}

// ExpiryKind says how an account expires.
type ExpiryKind int

const (
	// ExpiryNever: the account does not expire ("normal" in DSM).
	ExpiryNever ExpiryKind = iota
	// ExpiryDisabled: the account is disabled now ("now" in DSM).
	ExpiryDisabled
	// ExpiryOnDate: the account is disabled from a date on.
	ExpiryOnDate
)

// Expiry is DSM's "expired" field of a user: never, disabled, or a date.
// The zero value means never.
type Expiry struct {
	Kind ExpiryKind
	// Date is the day the account expires, for ExpiryOnDate.
	Date Date
}

// Never, Disabled and ExpiresOn build Expiry values.
var (
	// Never is an account that does not expire.
	Never = Expiry{Kind: ExpiryNever}
	// Disabled is an account that is disabled now.
	Disabled = Expiry{Kind: ExpiryDisabled}
)

// ExpiresOn returns the Expiry of an account disabled from d on.
func ExpiresOn(d Date) Expiry { return Expiry{Kind: ExpiryOnDate, Date: d} }

// ParseExpiry reads "never" (or DSM's "normal"), "disabled" (or "now"), or
// a date YYYY-MM-DD (or DSM's YYYY/M/D).
func ParseExpiry(s string) (Expiry, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "never", "normal", "":
		return Never, nil
	case "disabled", "now":
		return Disabled, nil
	}
	d, err := ParseDate(s)
	if err != nil {
		return Expiry{}, fmt.Errorf("expiry %q: want never, disabled or a date YYYY-MM-DD", s)
	}
	return ExpiresOn(d), nil
}

// String returns "never", "disabled" or the date as YYYY-MM-DD.
func (e Expiry) String() string {
	switch e.Kind {
	case ExpiryDisabled:
		return "disabled"
	case ExpiryOnDate:
		return e.Date.String()
	}
	return "never"
}

// dsm renders e as DSM's expired parameter.
func (e Expiry) dsm() string {
	switch e.Kind {
	case ExpiryDisabled:
		return "now"
	case ExpiryOnDate:
		return e.Date.dsm()
	}
	return "normal"
}

// UnmarshalJSON reads DSM's forms: "normal", "now", "YYYY/M/D".
func (e *Expiry) UnmarshalJSON(data []byte) error {
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return errors.New("expired: want a string")
	}
	v, err := ParseExpiry(s)
	if err != nil {
		return err
	}
	*e = v
	return nil
}

// MarshalJSON writes e as String does, for output of programs.
func (e Expiry) MarshalJSON() ([]byte, error) { return json.Marshal(e.String()) }

// MarshalJSON writes d as "YYYY-MM-DD", or null for the zero Date.
func (d Date) MarshalJSON() ([]byte, error) {
	if d.IsZero() {
		return []byte("null"), nil
	}
	return json.Marshal(d.String())
}

// UnmarshalJSON reads "YYYY-MM-DD", DSM's "YYYY/M/D", or null.
func (d *Date) UnmarshalJSON(data []byte) error {
	if string(data) == "null" {
		*d = Date{}
		return nil
	}
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return errors.New("date: want a string")
	}
	if s == "" {
		*d = Date{}
		return nil
	}
	v, err := ParseDate(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

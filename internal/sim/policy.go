package sim

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// ConfirmTokenTTL is how long a SynoConfirmPWToken of
// SYNO.Core.User.PasswordConfirm auth stays valid on the simulator's clock.
const ConfirmTokenTTL = 300 * time.Second

// confirmToken is an issued SynoConfirmPWToken.
type confirmToken struct {
	uid     int
	expires time.Time
}

// passwordPolicyGet answers SYNO.Core.User.PasswordPolicy get.
func (s *Server) passwordPolicyGet(q *request) (any, error) {
	return s.st.policy, nil
}

// strongFields are the fields of strong_password and whether each is an
// integer (else a boolean).
var strongFields = map[string]bool{
	"min_length_enable": false, "min_length": true, "mixed_case": false,
	"included_numeric_char": false, "included_special_char": false, "exclude_username": false,
	"exclude_common_password": false, "exclude_history": false, "history_num": true,
}

// passwordPolicySet answers SYNO.Core.User.PasswordPolicy set:
// enable_reset_passwd_by_email, password_must_change and strong_password
// (a JSON object with any of the fields get answers; absent ones keep
// their values). The reference client (N4S4/synology-api) sends strong_password as repeated
// bare field names with no values: that is accepted and changes no rule.
// A wrong type, an unknown field, a min_length outside 1-127 (when on), a
// history_num outside 0-24, or exclude_history on with a history_num of 0
// is 120, with nothing changed. The history bound and the refusal of 0 are
// guesses: no public source gives DSM's range, so the simulator keeps as
// many earlier passwords as it allows (keptHistory), and a count of 0
// while the rule is on would mean nothing.
func (s *Server) passwordPolicySet(q *request) (any, error) {
	p := s.st.policy
	var err error
	if p.ResetByEmail, err = q.boolean("enable_reset_passwd_by_email", p.ResetByEmail, codeInvalidParameter); err != nil {
		return nil, err
	}
	if p.MustChange, err = q.boolean("password_must_change", p.MustChange, codeInvalidParameter); err != nil {
		return nil, err
	}
	if vals := q.params["strong_password"]; len(vals) > 0 {
		if len(vals) == 1 && strings.HasPrefix(strings.TrimSpace(vals[0]), "{") {
			if p.Strong, err = mergeStrong(p.Strong, vals[0]); err != nil {
				return nil, err
			}
		} else {
			for _, v := range vals {
				if _, known := strongFields[v]; !known {
					return nil, fail(codeInvalidParameter)
				}
			}
		}
	}
	st := p.Strong
	if st.MinLengthEnable && (st.MinLength < 1 || st.MinLength > maxPasswordLen) || st.HistoryNum < 0 || st.HistoryNum > keptHistory ||
		st.ExcludeHistory && st.HistoryNum == 0 {
		return nil, fail(codeInvalidParameter)
	}
	s.st.policy = p
	s.dirty = true
	return struct{}{}, nil
}

// mergeStrong applies the JSON object raw to st, checking each field's type.
func mergeStrong(st strongPassword, raw string) (strongPassword, error) {
	var fields map[string]json.RawMessage
	if json.Unmarshal([]byte(raw), &fields) != nil {
		return st, fail(codeInvalidParameter)
	}
	cur, _ := json.Marshal(st)
	var merged map[string]any
	json.Unmarshal(cur, &merged)
	for k, v := range fields {
		isInt, known := strongFields[k]
		if !known {
			return st, fail(codeInvalidParameter)
		}
		if isInt {
			var n int
			if json.Unmarshal(v, &n) != nil {
				return st, fail(codeInvalidParameter)
			}
			merged[k] = n
		} else {
			var b bool
			if json.Unmarshal(v, &b) != nil {
				return st, fail(codeInvalidParameter)
			}
			merged[k] = b
		}
	}
	b, _ := json.Marshal(merged)
	var out strongPassword
	if json.Unmarshal(b, &out) != nil {
		return st, fail(codeInvalidParameter)
	}
	return out, nil
}

// passwordExpiryGet answers SYNO.Core.User.PasswordExpiry get.
func (s *Server) passwordExpiryGet(q *request) (any, error) {
	return s.st.expiry, nil
}

// passwordExpirySet answers SYNO.Core.User.PasswordExpiry set. Absent
// fields keep their values. A range is checked only when its feature is
// on (max_age 1-999, min_age 1 up to below max_age, login_prompt_days
// 1-99, mail_notification_days 1-99): out of range is 120; while the
// feature is off an out-of-range value is ignored. never_expired_list
// names users whose passwd_never_expire becomes true (others keep
// theirs); an unknown one is 3106. Nothing changes unless all is valid.
func (s *Server) passwordExpirySet(q *request) (any, error) {
	e := s.st.expiry
	bools := []struct {
		name string
		dst  *bool
	}{
		{"password_expire_enable", &e.Enable}, {"min_age_enable", &e.MinAgeEnable},
		{"enable_login_prompt", &e.EnableLoginPrompt}, {"allow_reset_after_expired", &e.AllowResetAfterExpired},
		{"enable_mail_notification", &e.EnableMailNotification},
	}
	for _, b := range bools {
		v, err := q.boolean(b.name, *b.dst, codeInvalidParameter)
		if err != nil {
			return nil, err
		}
		*b.dst = v
	}
	ints := []struct {
		name     string
		dst      *int
		on       bool
		low, top int
	}{
		{"max_age", &e.MaxAge, e.Enable, 1, 999},
		{"min_age", &e.MinAge, e.MinAgeEnable, 1, 998},
		{"login_prompt_days", &e.LoginPromptDays, e.EnableLoginPrompt, 1, 99},
	}
	for _, f := range ints {
		v, err := q.integer(f.name, *f.dst, codeInvalidParameter)
		if err != nil {
			return nil, err
		}
		if v < f.low || v > f.top {
			if f.on {
				return nil, fail(codeInvalidParameter)
			}
			continue
		}
		*f.dst = v
	}
	if e.Enable && e.MinAgeEnable && e.MinAge >= e.MaxAge {
		return nil, fail(codeInvalidParameter)
	}
	if q.has("mail_notification_days") {
		v := strings.TrimSpace(q.str("mail_notification_days"))
		n, err := strconv.Atoi(v)
		switch {
		case v == "" && !e.EnableMailNotification:
			e.MailNotificationDays = ""
		case err != nil:
			return nil, fail(codeInvalidParameter)
		case n >= 1 && n <= 99:
			e.MailNotificationDays = strconv.Itoa(n)
		case e.EnableMailNotification:
			return nil, fail(codeInvalidParameter)
		}
	}
	if e.EnableMailNotification && e.MailNotificationDays == "" {
		return nil, fail(codeInvalidParameter)
	}
	never, err := q.names("never_expired_list", false, codeInvalidParameter)
	if err != nil {
		return nil, err
	}
	var exempt []*user
	for _, n := range never {
		u := s.st.userByName(n)
		if u == nil {
			return nil, fail(codeNoSuchUser)
		}
		exempt = append(exempt, u)
	}
	s.st.expiry = e
	for _, u := range exempt {
		u.passwordNeverExpire = true
	}
	s.dirty = true
	return nil, nil
}

// passwordConfirmAuth answers SYNO.Core.User.PasswordConfirm auth: the
// session's user proves their password again (usually inside the
// encrypted envelope) and gets a SynoConfirmPWToken valid for 300 s. A
// missing password is 114, a wrong one 3124.
func (s *Server) passwordConfirmAuth(q *request) (any, error) {
	if !q.has("password") {
		return nil, fail(codeMissingParameters)
	}
	u, ok, changed := s.passwordMatches(q.user, q.str("password")) // the hash runs without s.mu
	if changed || !ok {
		return nil, fail(codePasswordInvalid)
	}
	q.user = u
	for tok, ct := range s.confirmTokens {
		if !q.now.Before(ct.expires) {
			delete(s.confirmTokens, tok)
		}
	}
	tok := randomToken(24)
	s.confirmTokens[tok] = confirmToken{uid: q.user.uid, expires: q.now.Add(ConfirmTokenTTL)}
	return map[string]string{"SynoConfirmPWToken": tok}, nil
}

// ConfirmTokenValid reports whether token is a SynoConfirmPWToken that
// PasswordConfirm auth issued less than 300 s ago (sim clock) to a user
// who still exists.
func (s *Server) ConfirmTokenValid(token string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	ct, ok := s.confirmTokens[token]
	return ok && s.clock.Now().Before(ct.expires) && s.st.userByUID(ct.uid) != nil
}

// usernamePolicy answers SYNO.Core.User.UsernamePolicy get and list (the
// reference client calls list): the bare list of reserved names.
func (s *Server) usernamePolicy(q *request) (any, error) {
	return slices.Clone(reservedUserNames), nil
}

// passwordPolicyCheck answers SYNO.Core.User.PasswordPolicy check (name,
// description, password): success when password meets the policy, else
// the code a create or set would give (3121 a broken rule, 3123 too
// common, 3122 used before). DSM's create-user wizard sends it with the
// typed name, description and password (encrypted) and shows the failure
// code's message (DSM 6.2.3 admin_center.js, validUserName); DSM's table
// opens it to every user (kwent/syno definitions/7.x). As DSM's own
// password checker in the UI does (sds.js, CheckStrongPassword),
// exclude_username also refuses a password that contains the
// description. The history is checked only when name is an existing user
// and the caller is that user or an administrator (a choice); the answer
// has no data (a guess). A missing password is 114.
func (s *Server) passwordPolicyCheck(q *request) (any, error) {
	if !q.has("password") {
		return nil, fail(codeMissingParameters)
	}
	name, desc, pw := q.str("name"), q.str("description"), q.str("password")
	var u *user
	if name != "" {
		if u = s.st.userByName(name); u != nil && u != q.user && !s.st.isAdmin(q.user) {
			u = nil
		}
	}
	p := s.st.policy
	if err := p.checkPassword(name, pw, u); err != nil {
		return nil, err
	}
	if p.Strong.ExcludeUsername && desc != "" && strings.Contains(strings.ToLower(pw), strings.ToLower(desc)) {
		return nil, fail(codePasswordPolicy)
	}
	return nil, nil
}

// maxMeterScore is the best score of PasswordMeter evaluate. DSM's
// password fields turn a score into one of three levels as
// floor(score/2)+1 (DSM 6.2.3 sds.js and WelcomeApp.js), so scores run
// from 0 to 5.
const maxMeterScore = 5

// passwordMeterEvaluate answers SYNO.Core.User.PasswordMeter evaluate
// (password, and optionally required_rules: an object of strong_password
// fields) -> {score}. DSM's password fields send it on every key stroke
// (encrypted) and show weak (0-1), medium (2-3) or strong (4-5); the
// welcome wizard adds required_rules (DSM 6.2.3 sds.js, WelcomeApp.js).
// How DSM scores is not public; the simulator's score is a choice: 0 for
// a common password or one that breaks required_rules, else a point for
// each of 8, 10 and 14 characters and for each character class beyond the
// first (lower, upper, digit, other), at most 5. A missing password is
// 114, malformed required_rules 120.
func (s *Server) passwordMeterEvaluate(q *request) (any, error) {
	if !q.has("password") {
		return nil, fail(codeMissingParameters)
	}
	pw := q.str("password")
	if raw := strings.TrimSpace(q.params.Get("required_rules")); raw != "" {
		rules, err := mergeStrong(strongPassword{}, raw)
		if err != nil {
			return nil, err
		}
		if (passwordPolicy{Strong: rules}).checkPassword("", pw, nil) != nil {
			return map[string]int{"score": 0}, nil
		}
	}
	return map[string]int{"score": meterScore(pw)}, nil
}

// meterScore is the simulator's strength score of pw, 0 to maxMeterScore.
func meterScore(pw string) int {
	if commonPasswords[strings.ToLower(pw)] {
		return 0
	}
	n := utf8.RuneCountInString(pw)
	score := 0
	for _, l := range []int{8, 10, 14} {
		if n >= l {
			score++
		}
	}
	var lower, upper, digit, other bool
	for _, r := range pw {
		switch {
		case unicode.IsLower(r):
			lower = true
		case unicode.IsUpper(r):
			upper = true
		case unicode.IsDigit(r):
			digit = true
		default:
			other = true
		}
	}
	classes := 0
	for _, has := range []bool{lower, upper, digit, other} {
		if has {
			classes++
		}
	}
	return min(maxMeterScore, score+max(classes-1, 0))
}

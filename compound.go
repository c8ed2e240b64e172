package dsm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// What is known of DSM's compound request, SYNO.Entry.Request method
// request:
//   - the parameters are compound, a JSON list of calls, each an object
//     with api, method, version and the call's own parameters beside them
//     (flat), stop_when_error (true/false) and mode ("sequential" or
//     "parallel"), as DSM 7's web UI library builds it (its request
//     module's prepare) and third-party clients send it (a Home
//     Assistant Synology VMM integration, N4S4/synology-api's
//     ActiveDirectory module);
//   - the answer's data is {has_fail, result:[{api, method, version,
//     success, data}]}, one result per call in order (N4S4 documentation
//     of its compound calls; the VMM integration reads has_fail and
//     result[].data).
//
// That a failed call's result carries error {code, errors} as a plain
// answer does, and that a stop leaves the later calls out of result, is
// not in those sources: the client reads both liberally (a missing result
// is ErrNotRun, a result without error is code 100).

// MaxBatchCalls bounds the calls of one Batch. DSM's own limit is not
// known; its dialog sends about ten. A choice, and the simulator's too.
const MaxBatchCalls = 32

// ErrNotRun is the Err of a BatchCall that DSM did not make: an earlier
// call failed and the batch stops on errors.
var ErrNotRun = errors.New("dsm: not run: an earlier call of the batch failed")

// BatchCall is one call of a Batch. After Batch, Out holds its data and
// Err its outcome.
type BatchCall struct {
	API, Method string
	// Version is the version to call; 0 means the highest both sides
	// speak, as for a single call.
	Version int
	Params  Params
	// Out, when not nil, receives the call's data as Call would.
	Out any
	// Err is nil when DSM did the call, its *APIError (API and Method
	// those of this call) when DSM refused it, ErrNotRun when DSM did
	// not make it, or a *MalformedError.
	Err error
}

// BatchOptions sets how DSM runs a Batch.
type BatchOptions struct {
	// StopOnError makes DSM stop at the first call that fails
	// (stop_when_error); the calls after it are not made.
	StopOnError bool
}

// BatchError reports the calls of a Batch that failed. It unwraps to
// their errors, so errors.Is(err, dsm.ErrNoSuchUser) asks whether any
// call failed for that reason.
type BatchError struct {
	// Failed are the calls whose Err is not nil, in order.
	Failed []*BatchCall
}

// Error names each failed call and why.
func (e *BatchError) Error() string {
	parts := make([]string, len(e.Failed))
	for i, c := range e.Failed {
		parts[i] = fmt.Sprintf("%s %s: %v", c.API, c.Method, c.Err)
	}
	return fmt.Sprintf("dsm: %d of the batch's calls failed: %s", len(e.Failed), strings.Join(parts, "; "))
}

// Unwrap returns the errors of the failed calls.
func (e *BatchError) Unwrap() []error {
	errs := make([]error, len(e.Failed))
	for i, c := range e.Failed {
		errs[i] = c.Err
	}
	return errs
}

// compoundWire is the answer of SYNO.Entry.Request request.
type compoundWire struct {
	HasFail flexBool `json:"has_fail"`
	Result  []struct {
		API     string          `json:"api"`
		Method  string          `json:"method"`
		Success *bool           `json:"success"`
		Data    json.RawMessage `json:"data"`
		Error   json.RawMessage `json:"error"`
	} `json:"result"`
}

// Batch makes calls in one HTTP request, in order, and fills each call's
// Out and Err. It returns an error when the request itself failed, an
// argument is wrong, or (a *BatchError) when some calls failed. The
// request goes through the client's one call path: one session, one
// SynoToken and, for a secure sign-in session, one X-SYNO-HASH for all
// the calls. A batch that changes something is repeated only when DSM
// refused it as busy or it was never sent.
//
// DSM: SYNO.Entry.Request request.
func (c *Client) Batch(ctx context.Context, opts BatchOptions, calls ...*BatchCall) error {
	if len(calls) == 0 {
		return argErrorf("batch", "no call given")
	}
	if len(calls) > MaxBatchCalls {
		return argErrorf("batch", "%d calls; a batch holds at most %d, split it", len(calls), MaxBatchCalls)
	}
	change := false
	for i, bc := range calls {
		if bc == nil {
			return argErrorf("batch", "call %d is nil", i)
		}
		if bc.API == "" || bc.Method == "" {
			return argErrorf("batch", "call %d has no API or method", i)
		}
		if bc.API == "SYNO.Entry.Request" || bc.API == infoAPIName || strings.HasPrefix(bc.API, "SYNO.API.Auth") {
			return argErrorf("batch", "call %d: %s cannot be batched; call it on its own", i, bc.API)
		}
		for _, k := range []string{"api", "version", "method", "_sid", "SynoToken"} {
			if _, ok := bc.Params[k]; ok {
				return argErrorf("batch", "call %d (%s %s): parameter %q is set by the client; leave it out of Params", i, bc.API, bc.Method, k)
			}
		}
		// A batch has no encryption envelope: over plain http its
		// parameters travel in clear, so secrets stay out of it.
		for _, k := range []string{"password", "passwd", "otp_code", "device_id"} {
			if _, ok := bc.Params[k]; ok {
				return argErrorf("batch", "call %d (%s %s): parameter %q is a secret, which a batch does not carry; make the call on its own", i, bc.API, bc.Method, k)
			}
		}
		bc.Err = nil
		change = change || mutatingMethods[bc.Method] || strings.HasPrefix(bc.Method, "set")
	}
	var d compoundWire
	r := newRead("SYNO.Entry.Request", "request", Params{"stop_when_error": opts.StopOnError, "mode": "sequential"}, &d)
	r.compound = calls
	r.mutating, r.change = change, change
	if err := c.do(ctx, r); err != nil {
		return err
	}
	var failed []*BatchCall
	for i, bc := range calls {
		if i >= len(d.Result) {
			bc.Err = ErrNotRun
			failed = append(failed, bc)
			continue
		}
		res := d.Result[i]
		if res.API != "" && res.API != bc.API || res.Method != "" && res.Method != bc.Method {
			bc.Err = &MalformedError{API: bc.API, Method: bc.Method, Reason: fmt.Sprintf("result %d of the batch is of %s %s", i, res.API, res.Method)}
			failed = append(failed, bc)
			continue
		}
		// Each result is an envelope of its own: decoded where every
		// envelope is.
		env, _ := json.Marshal(struct {
			Success bool            `json:"success"`
			Data    json.RawMessage `json:"data,omitempty"`
			Error   json.RawMessage `json:"error,omitempty"`
		}{res.Success != nil && *res.Success, res.Data, res.Error})
		if _, err := decodeEnvelope(bc.API, bc.Method, 200, env, bc.Out); err != nil {
			bc.Err = err
			failed = append(failed, bc)
		}
	}
	if len(failed) > 0 {
		return &BatchError{Failed: failed}
	}
	return nil
}

// encodeCompound is the compound parameter of r: each call's version
// chosen as for a single call (a discovery it needs carries s), its
// parameters beside api, method and version. build calls it.
func (c *Client) encodeCompound(ctx context.Context, calls []*BatchCall, s *session) (string, error) {
	list := make([]map[string]any, len(calls))
	for i, bc := range calls {
		_, v, err := c.resolve(ctx, bc.API, bc.Version, s)
		if err != nil {
			return "", err
		}
		m := make(map[string]any, len(bc.Params)+3)
		for k, val := range bc.Params {
			if val == nil {
				return "", argErrorf(fmt.Sprintf("%s %s", bc.API, bc.Method), "parameter %s is nil", k)
			}
			m[k] = val
		}
		m["api"], m["method"], m["version"] = bc.API, bc.Method, v
		list[i] = m
	}
	b, err := json.Marshal(list)
	if err != nil {
		return "", argError("batch", fmt.Errorf("cannot encode the calls as JSON: %w", err))
	}
	return string(b), nil
}

// UserProfile is what DSM's user dialog shows of a user, read in one
// round trip.
type UserProfile struct {
	User User
	// Shares are the user's rows on every shared folder, with what they
	// inherit from their groups.
	Shares []Permission
	// Quotas are the user's own quotas, one per volume or shared folder
	// (as QuotasService.Get).
	Quotas []Quota
	// Apps are the user's own application rules (as AppsService.Rules).
	Apps []AppRule
	// Speed are the user's speed limits, one per protocol (as
	// SpeedService.Get).
	Speed []SpeedLimit
	// Unavailable holds, by API (SYNO.Core.Quota,
	// SYNO.Core.AppPriv.Rule, SYNO.Core.BandwidthControl), why that part
	// could not be read: the NAS does not serve the API, or refused the
	// call. The part is then empty. Nil when every part was read.
	Unavailable map[string]error
}

// profileOptional are the parts of a profile without which the user and
// their rights are still read: a NAS may lack the API (a package, a
// model or a version without it, a choice to be liberal).
var profileOptional = map[string]bool{"SYNO.Core.Quota": true, "SYNO.Core.AppPriv.Rule": true, "SYNO.Core.BandwidthControl": true}

// Profile reads a user (every field), their rights on every shared
// folder, their quotas, application rules and speed limits in one
// compound request, as DSM's own user dialog reads them together
// (loadDetail, DSM 6.2.3 admin_center.js). The user and the rights must
// be read, or Profile fails with the error of that call; the quotas,
// rules and limits are read where the NAS serves them (see
// UserProfile.Unavailable). A NAS that lacks one of their APIs costs a
// second request, without it.
//
// DSM: SYNO.Entry.Request request of SYNO.Core.User get,
// SYNO.Core.Share.Permission list_by_user, SYNO.Core.Quota get,
// SYNO.Core.AppPriv.Rule get and SYNO.Core.BandwidthControl get (v2).
func (s *UsersService) Profile(ctx context.Context, name string) (UserProfile, error) {
	if err := ValidateUserName(name); err != nil {
		return UserProfile{}, argError("read user profile", err)
	}
	var u struct {
		Users []userWire `json:"users"`
	}
	var (
		perms  sharePermissionsWire
		quotas quotasWire
		rules  appRulesWire
		speed  speedLimitsWire
	)
	p := UserPrincipal(name)
	pr := permissionsRequest(p, &perms)
	calls := []*BatchCall{
		{API: "SYNO.Core.User", Method: "get", Params: Params{"name": name, "additional": profileFields()}, Out: &u},
		{API: pr.api, Method: pr.method, Params: pr.params, Out: &perms},
		{API: "SYNO.Core.Quota", Method: "get", Params: quotaParams(p), Out: &quotas},
		{API: "SYNO.Core.AppPriv.Rule", Method: "get", Params: p.entity(), Out: &rules},
		{API: "SYNO.Core.BandwidthControl", Method: "get", Version: 2, Params: speedParams(p), Out: &speed},
	}
	out := UserProfile{}
	unavailable := func(api string, err error) {
		if out.Unavailable == nil {
			out.Unavailable = map[string]error{}
		}
		out.Unavailable[api] = err
	}
	var err error
	for {
		err = s.c.Batch(ctx, BatchOptions{}, calls...)
		// The client refuses a call of an API the NAS does not list
		// before anything is sent: that part is left out.
		var ve *VersionError
		if !errors.As(err, &ve) || !profileOptional[ve.API] || out.Unavailable[ve.API] != nil {
			break
		}
		unavailable(ve.API, err)
		calls = slices.DeleteFunc(calls, func(c *BatchCall) bool { return c.API == ve.API })
	}
	var be *BatchError
	if errors.As(err, &be) {
		for _, c := range be.Failed {
			if !profileOptional[c.API] {
				return UserProfile{}, noSuchPrincipal(p, c.Err)
			}
			unavailable(c.API, c.Err)
		}
	} else if err != nil {
		return UserProfile{}, err
	}
	if len(u.Users) == 0 {
		return UserProfile{}, &APIError{Code: 3106, API: "SYNO.Core.User", Method: "get"}
	}
	out.User, out.Shares = u.Users[0].user(), perms.permissions(p)
	if out.Unavailable["SYNO.Core.Quota"] == nil {
		q, err := quotas.quotas(p)
		if err != nil {
			unavailable("SYNO.Core.Quota", err)
		}
		out.Quotas = q
	}
	if out.Unavailable["SYNO.Core.AppPriv.Rule"] == nil {
		out.Apps = rules.rules(p)
	}
	if out.Unavailable["SYNO.Core.BandwidthControl"] == nil {
		out.Speed = speed.limits()
	}
	return out, nil
}

// profileFields are the user fields Profile asks for: all of them but
// the uid, which get answers unasked (as in UsersService.Get).
func profileFields() []string {
	return slices.DeleteFunc(slices.Clone(AllUserFields), func(f string) bool { return f == FieldUID })
}

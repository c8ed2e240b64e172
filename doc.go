// Package dsm is a client for the user administration of Synology DSM, the
// operating system of Synology NAS boxes, through its Web API
// (SYNO.API.Auth, SYNO.Core.User and friends).
//
//	c, err := dsm.NewClient("https://nas.local:5001",
//		dsm.WithCredentials(dsm.Credentials{Account: "admin", Password: pw}))
//	...
//	me, err := c.Auth.Whoami(ctx)
//
// Every call is a POST with a form body; no password, session id or token
// ever goes in a URL. The client asks SYNO.API.Info once which APIs and
// versions the NAS serves and uses, per API, the highest version both sides
// speak; a program that saves Client.APITable and gives it to WithAPIInfo
// skips even that request. Over plain http the key of the encryption
// envelope is reused for a minute, so a change after the first costs one
// request; whole lists come in one request.
//
// # Authentication
//
// Auth.Login logs in with an account and password (SYNO.API.Auth version 7,
// or 6 on DSM 6) and keeps the session id and SynoToken for later calls.
// Over plain http the credentials travel inside DSM's encryption envelope
// (SYNO.API.Encryption: RSA and AES); over https in the request body.
//
// Accounts with 2-step verification answer a login without a code with
// ErrOTPRequired; log in again with Credentials.OTPCode. Set
// Credentials.DeviceName to have DSM trust the device: the Session then
// carries a device token (Session.DeviceID) that later logins present as
// Credentials.DeviceID instead of a code.
//
// TwoStep sets up 2-step verification for the logged-in account as DSM's
// wizard does (Setup gives the seed and its otpauth URI, Confirm turns it
// on with a code), resets that of others, sets the policy that enforces
// it (whose logins then fail with ErrOTPEnforced until they set it up),
// and lists and forgets trusted devices. Security reads and sets
// auto-block (ErrIPBlocked), its allow and block lists, and account
// protection (ErrAccountLocked) with its locked accounts.
//
// A client made WithCredentials logs in on its first call, and when a call
// answers that the session has expired (codes 106, 107, 119) it logs in
// again, once, and repeats the call; concurrent calls share that one
// login. A saved session is resumed with WithSession.
//
// # DSM 7's secure sign-in
//
// Where the NAS offers it (SYNO.API.Auth.UIConfig), the login does DSM 7's
// Noise IK handshake and every later request of the session carries an
// X-SYNO-HASH header; Session.SecureSignIn tells whether it did. From an
// address DSM counts as remote, a session without it can read but not
// change anything: such a refused change is a *LimitedSessionError (it
// matches ErrLimitedSession and ErrPermissionDenied). WithSecureSignIn
// chooses between falling back without it (SecureSignInAuto, the
// default), failing with a *SecureSignInError (SecureSignInRequired) and
// never trying (SecureSignInOff). A signed session's Session.Signing is
// saved with it, so WithSession resumes the signing too; save the Session
// Auth.Session returns after the last call, as a nonce must not be used
// twice.
//
// # Onboarding: shared folders, quotas, applications, speed limits, batches
//
// Shares, Permissions and Home manage shared folders, who may use them
// and the user home service. Permission writes are patches: only the rows
// sent change, and Grant sends a row's is_custom back as DSM has it so
// that ACL-level rights survive. EffectiveAccess computes a user's right
// as DSM does (deny over read/write over read-only across the user's and
// their groups' rows; administrators always read/write). Quotas, Apps and
// Speed read and set a user's or group's quotas (in Bytes, whatever unit
// the call counts in), application rules and speed limits; a Principal
// (UserPrincipal, GroupPrincipal) names whose, and a volume is always its
// path, /volume1. Batch sends several calls as one SYNO.Entry.Request
// through the same call path as every request (one session, one
// X-SYNO-HASH), with a typed outcome per call; UsersService.Profile reads
// a user with their rights, quotas, rules and limits in one request, and
// UsersService.SetProfile changes them in one. UsersService.PreviewImport
// and Import run DSM's own bulk import (parse_user_list, then a task).
//
// # Errors
//
// A DSM error answer is an *APIError with DSM's code and its meaning.
// Sentinel errors match families of codes with errors.Is:
//
//	_, err := c.Auth.Login(ctx, cred)
//	switch {
//	case errors.Is(err, dsm.ErrOTPRequired):   // ask for a code
//	case errors.Is(err, dsm.ErrWrongCredentials):
//	}
//
// An argument refused before any call is an *ArgError (it matches
// ErrInvalidArgument); nothing was sent. A call that runs out of time is
// a *TimeoutError naming the call, the NAS and the bound that ran out:
// every call is bounded by default (DefaultTimeouts, DefaultCallTimeout).
// Other transport failures come wrapped as they are; an HTTP status other
// than 200 is a *StatusError (a proxy or the web server failed, not the API);
// an answer that is not a DSM envelope is a *MalformedError. No error ever
// quotes a request or an answer body.
//
// # Testing with dsmtest
//
// Package dsmtest runs a simulated DSM 7 on a loopback port, with the same
// answers, codes and rules as a real one:
//
//	srv := dsmtest.Start(t)
//	c := srv.Client() // logged in as admin on first use
package dsm

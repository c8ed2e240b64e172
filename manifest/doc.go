// Package manifest keeps the users, groups, password policies and sign-in
// security settings of a Synology DSM as code: a YAML or JSON file says
// what should be, Plan compares it with a live NAS and lists the changes,
// and Apply makes them, with bounded parallelism, so that a second Plan
// is empty.
//
//	f, err := manifest.Load("users.yaml")
//	plan, err := f.Plan(ctx, client, manifest.PlanOptions{})
//	fmt.Print(plan)                      // a readable diff
//	res, err := plan.Apply(ctx, client, manifest.ApplyOptions{Parallel: 8})
//	for _, fail := range res.Failures { ... }
//
// # The file
//
//	users:
//	  - name: alice
//	    description: Alice Liddell
//	    email: alice@example.com
//	    groups: [staff]
//	    expiry: never                  # never | disabled | YYYY-MM-DD
//	    password_never_expires: false
//	    cannot_change_password: false
//	    password: {from_env: ALICE_PW} # or {from_file: alice} or {generate: true}
//	groups:
//	  - name: staff
//	    description: Teaching staff
//	password_policy:                   # optional; keys not given are left alone
//	  min_length: 10                   # 0: no minimum
//	  mixed_case: true
//	password_expiry:                   # optional
//	  max_age: 90                      # 0: passwords do not expire
//	  never_expire: [alice]
//	security:                          # optional; parts not given are left alone
//	  two_step_enforcement: admins     # none | admins | all
//	  auto_block: {enabled: true, attempts: 5, within_minutes: 10, expire_days: 0}
//	  account_protection: {enabled: true, untrusted_attempts: 5, trusted_lock_minutes: 30}
//	  allow: [192.168.1.0/24]          # the whole allow list
//
// A field a user does not give is left as it is on the NAS; groups, when
// given, are all the user's groups (every user is also in "users"). The
// password is used only when the user is created, unless
// PlanOptions.SetPasswords asks for it. Unknown keys and wrong types are
// errors that name the file's line.
//
// # Validation
//
// Plan checks the whole file against the NAS before anything changes:
// reserved user names, DSM's limits, the groups named, the passwords that
// will be set (against the password policy the file leaves in force), a
// two_step_enforcement that would lock out the account applying it (see
// PlanOptions.AllowLockout), and returns every problem at once as a
// *ValidationError.
//
// # Safe to interrupt
//
// Apply sets the policies first, then creates and changes groups, then
// runs each user's steps in order (create, update, join its groups),
// deletes last. A user created but not yet in its groups is simply a
// change of the next plan, so applying again after an interruption
// converges. A generated password is handed to
// ApplyOptions.RecordPassword before the user is created, so it is never
// lost.
package manifest

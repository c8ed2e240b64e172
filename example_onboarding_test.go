package dsm_test

import (
	"context"
	"fmt"
	"log"

	"github.com/dsmkit/dsm"
	"github.com/dsmkit/dsm/dsmtest"
)

// A new colleague gets a quota, loses FTP, and gets SFTP from the office
// network only. Sizes are Bytes whatever unit DSM counts in.
func ExampleQuotasService_Set() {
	srv, err := dsmtest.NewServer(dsmtest.WithUser(dsmtest.User{Name: "alice", Password: "Alice-pw1"}))
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	ctx := context.Background()
	c := srv.Client()
	alice := dsm.UserPrincipal("alice")

	limit, _ := dsm.ParseBytes("20GiB")
	if err := c.Quotas.Set(ctx, alice, dsm.Quota{Share: "public", Limit: limit}); err != nil {
		log.Fatal(err)
	}
	if err := c.Apps.Deny(ctx, alice, "SYNO.FTP"); err != nil {
		log.Fatal(err)
	}
	if err := c.Apps.Allow(ctx, alice, "SYNO.SFTP", "10.0.0.0/8"); err != nil {
		log.Fatal(err)
	}
	quotas, _ := c.Quotas.Get(ctx, alice)
	for _, q := range quotas {
		if q.Limit != 0 {
			fmt.Println(q.Volume, q.Share, q.Limit)
		}
	}
	rules, _ := c.Apps.Rules(ctx, alice)
	for _, r := range rules {
		fmt.Println(r.App, r.Decision(), r.Allow)
	}
	// A quota DSM cannot keep in its MB is refused before any call.
	fmt.Println(c.Quotas.Set(ctx, alice, dsm.Quota{Share: "public", Limit: 1500}))
	// Output:
	// /volume1 public 20GiB
	// SYNO.FTP deny []
	// SYNO.SFTP custom [10.0.0.0/8]
	// dsm: set quotas of user alice: quota 1500 bytes is not a whole number of MiB: SYNO.Core.Quota keeps quotas in MB (2^20 bytes); round it to 1MiB (0 means no limit)
}

package dsm

// Principal names a user or a group: whose right a shared-folder
// permission row gives, and whose quota, application rule or speed
// limit it is. Make one with UserPrincipal or GroupPrincipal.
type Principal struct {
	// Name is the user's or the group's name.
	Name string
	// Group is true for a group, false for a user.
	Group bool
}

// UserPrincipal names a local user.
func UserPrincipal(name string) Principal { return Principal{Name: name} }

// GroupPrincipal names a local group.
func GroupPrincipal(name string) Principal { return Principal{Name: name, Group: true} }

// String returns "user NAME" or "group NAME".
func (p Principal) String() string {
	if p.Group {
		return "group " + p.Name
	}
	return "user " + p.Name
}

// userGroupType is how SYNO.Core.Share.Permission (user_group_type) and
// SYNO.Core.BandwidthControl (owner_type) name the kind of principal:
// local_user or local_group (math65/dsmaccess; N4S4/synology-api
// core_group.py).
func (p Principal) userGroupType() string {
	if p.Group {
		return "local_group"
	}
	return "local_user"
}

// validate checks the name as the user or group name it is.
func (p Principal) validate() error {
	if p.Group {
		return ValidateGroupName(p.Name)
	}
	return ValidateUserName(p.Name)
}

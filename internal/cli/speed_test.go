package cli

import (
	"strings"
	"testing"

	"github.com/dsmkit/dsm"
)

func TestScheduleText(t *testing.T) {
	t.Parallel()
	plan := strings.Repeat("0", 24) + strings.Repeat("1", 120) + strings.Repeat("2", 24)
	for _, tt := range []struct {
		l    dsm.SpeedLimit
		full bool
		want string
	}{
		{dsm.SpeedLimit{Policy: dsm.SpeedEnabled, Schedule: dsm.AlwaysLimited}, false, "-"},
		{dsm.SpeedLimit{Policy: dsm.SpeedScheduled, Schedule: dsm.AlwaysLimited}, false, "always"},
		{dsm.SpeedLimit{Policy: dsm.SpeedScheduled, Schedule: plan}, false, "24h none, 120h first, 24h second"},
		{dsm.SpeedLimit{Policy: dsm.SpeedEnabled, Schedule: plan}, true, plan},
	} {
		if got := scheduleText(tt.l, tt.full); got != tt.want {
			t.Errorf("%v: %q, want %q", tt.l, got, tt.want)
		}
	}
}

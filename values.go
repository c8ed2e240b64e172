package dsm

import (
	"fmt"
	"strconv"
	"strings"
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
		if n, err := strconv.ParseFloat(s, 64); err == nil {
			*b = n != 0
			return nil
		}
		return fmt.Errorf("%s is not a boolean", data)
	}
	return nil
}

package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/windows"
)

// A config Everyone may write and a secret Users may read are refused; the
// same files with an ACL for SYSTEM, Administrators and the owner only are
// accepted.
func TestFilePermissionsRefusedWindows(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "vipagent.yaml")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	self, err := currentUserSID()
	if err != nil {
		t.Fatal(err)
	}
	private := "D:P(A;;FA;;;SY)(A;;FA;;;BA)(A;;FA;;;" + self.String() + ")"
	tests := []struct {
		name string
		sddl string
		role fileRole
		want string
	}{
		{"private config", private, roleConfig, ""},
		{"private secret", private, roleSecret, ""},
		{"config writable by Everyone", private + "(A;;FA;;;WD)", roleConfig, "is writable by"},
		{"config Users may append to", private + "(A;;0x4;;;BU)", roleConfig, "is writable by"},
		{"config Users may read", private + "(A;;FR;;;BU)", roleConfig, ""},
		{"secret Users may read", private + "(A;;FR;;;BU)", roleSecret, "is a secret readable by"},
		{"secret Authenticated Users may read", private + "(A;;GR;;;AU)", roleSecret, "is a secret readable by"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			setDACL(t, file, tt.sddl)
			prob, warn := filePermProblem(file, tt.role)
			if warn != "" {
				t.Skipf("this Windows (Wine?) does not give the ACL back: %s", warn)
			}
			if tt.want == "" && prob != "" || tt.want != "" && !strings.Contains(prob, tt.want) {
				t.Errorf("filePermProblem = %q, want %q", prob, tt.want)
			}
		})
	}
}

func setDACL(t *testing.T, path, sddl string) {
	t.Helper()
	sd, err := windows.SecurityDescriptorFromString(sddl)
	if err != nil {
		t.Fatal(err)
	}
	dacl, _, err := sd.DACL()
	if err != nil {
		t.Fatal(err)
	}
	if err := windows.SetNamedSecurityInfo(path, windows.SE_FILE_OBJECT,
		windows.DACL_SECURITY_INFORMATION|windows.PROTECTED_DACL_SECURITY_INFORMATION, nil, nil, dacl, nil); err != nil {
		t.Fatal(err)
	}
}

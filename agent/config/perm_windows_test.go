package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/windows"
)

// A config another account may write and a secret Users may read are
// refused; an ACL for SYSTEM, Administrators and the owner only is
// accepted. The descriptors are built from SDDL, so the judgement is
// tested even where the file system does not keep a DACL (Wine derives
// ACLs from Unix mode bits).
func TestACLProblem(t *testing.T) {
	self, err := currentUserSID()
	if err != nil {
		t.Fatal(err)
	}
	me := self.String()
	private := "O:" + me + "D:P(A;;FA;;;SY)(A;;FA;;;BA)(A;;FA;;;" + me + ")"
	tests := []struct {
		name string
		sddl string
		role fileRole
		want string
	}{
		{"private config", private, roleConfig, ""},
		{"private secret", private, roleSecret, ""},
		{"owned by Administrators", "O:BA" + private[len("O:"+me):], roleSecret, ""},
		{"owned by Users", "O:BU" + private[len("O:"+me):], roleConfig, "is owned by"},
		{"config writable by Everyone", private + "(A;;FA;;;WD)", roleConfig, "is writable by"},
		{"config Users may append to", private + "(A;;0x4;;;BU)", roleConfig, "is writable by"},
		{"config another user may change its ACL", private + "(A;;WD;;;S-1-5-21-1-2-3-1001)", roleConfig, "is writable by"},
		{"config Users may read", private + "(A;;FR;;;BU)", roleConfig, ""},
		{"secret Users may read", private + "(A;;FR;;;BU)", roleSecret, "is a secret readable by"},
		{"secret Authenticated Users may read", private + "(A;;GR;;;AU)", roleSecret, "is a secret readable by"},
		{"secret one other account may read", private + "(A;;FR;;;S-1-5-21-1-2-3-1001)", roleSecret, ""},
		{"no DACL", "O:" + me + "D:NO_ACCESS_CONTROL", roleConfig, "has no DACL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sd, err := windows.SecurityDescriptorFromString(tt.sddl)
			if err != nil {
				t.Fatalf("SDDL %s: %v", tt.sddl, err)
			}
			if strings.Contains(tt.sddl, "NO_ACCESS_CONTROL") {
				if dacl, _, err := sd.DACL(); err != nil || dacl != nil {
					t.Skip("this Windows (Wine) parses NO_ACCESS_CONTROL as an empty DACL, not a null one")
				}
			}
			prob, warn := aclProblem(`C:\vipagent\x`, sd, self, tt.role)
			if warn != "" {
				t.Fatalf("warning %q", warn)
			}
			if tt.want == "" && prob != "" || tt.want != "" && !strings.Contains(prob, tt.want) {
				t.Errorf("aclProblem(%s) = %q, want %q", tt.sddl, prob, tt.want)
			}
		})
	}
}

// The file's own descriptor is read: a file created by this test passes
// or is reported, never silently skipped.
func TestFilePermProblemReadsTheACL(t *testing.T) {
	file := filepath.Join(t.TempDir(), "vipagent.yaml")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	prob, warn := filePermProblem(file, roleConfig)
	switch {
	case underWine && (warn == "" || prob != ""):
		t.Errorf("under Wine: filePermProblem = %q, %q; want only a warning", prob, warn)
	case !underWine && (warn != "" || prob != ""):
		t.Errorf("a file this user created: filePermProblem = %q, %q; want neither", prob, warn)
	}
}

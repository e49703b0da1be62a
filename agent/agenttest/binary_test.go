package agenttest

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

var (
	binary    string
	binaryErr error
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "agenttest-")
	if err != nil {
		panic(err)
	}
	binary, binaryErr = Build(dir)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// The binary Build found starts and answers: on Windows under Wine this is
// vipagent.exe itself, built by scripts/test-windows.sh.
func TestBinaryRuns(t *testing.T) {
	bin := RequireBinary(t, binary, binaryErr)
	out, err := exec.Command(bin, "version").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "vipagent") {
		t.Fatalf("%s version = %q, %v; want it to name vipagent", bin, out, err)
	}
}

func TestBuildTakesVIPAGENT_EXE(t *testing.T) {
	prebuilt := filepath.Join(t.TempDir(), "vipagent.exe")
	if err := os.WriteFile(prebuilt, nil, 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		env     string
		want    string
		wantErr error
	}{
		{name: "present", env: prebuilt, want: prebuilt},
		{name: "missing", env: prebuilt + ".gone", wantErr: os.ErrNotExist},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(EnvBinary, tt.env)
			got, err := Build(t.TempDir())
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) || got != tt.want {
				t.Fatalf("Build = %q, %v; want %q, %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

package journal

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vipagent/vipagent/agent/agenttest"
)

// smallDisk mounts a tmpfs of size bytes; it needs root.
func smallDisk(t *testing.T, size string) string {
	t.Helper()
	agenttest.RequireRoot(t, "to mount a small tmpfs")
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Fatalf("mount tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", mnt).Run() })
	return mnt
}

// While the disk is full the journal says it cannot commit, with the
// reason, before and after an alarm is refused; once there is room again
// it is healthy by itself, without an alarm to tell it.
func TestHealthFollowsAFullDisk(t *testing.T) {
	mnt := smallDisk(t, "2m")
	path := filepath.Join(mnt, "j.db")
	j := open(t, path, Options{})
	if err := j.Health(); err != nil {
		t.Fatalf("fresh journal: %v", err)
	}
	filler := filepath.Join(mnt, "filler")
	exec.Command("dd", "if=/dev/zero", "of="+filler, "bs=4k").Run()
	refused := false
	for i := 0; i < 2000 && !refused; i++ {
		_, _, err := j.Accept(finishedAlarm(fmt.Sprintf("full-%d", i), 4000))
		refused = err != nil
	}
	if !refused {
		t.Fatal("the disk never filled up")
	}
	err := j.Health()
	if err == nil || !strings.Contains(err.Error(), "no space left on device") || !strings.Contains(err.Error(), "cannot commit") {
		t.Fatalf("Health on a full disk = %v; want the reason", err)
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * probeRetry)
	for j.Health() != nil {
		if time.Now().After(deadline) {
			t.Fatalf("still unhealthy %s after space came back: %v", 10*probeRetry, j.Health())
		}
		time.Sleep(probeRetry / 4)
	}
}

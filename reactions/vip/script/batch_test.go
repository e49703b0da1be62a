package script

import "testing"

func TestCheckBatchArgv(t *testing.T) {
	ok := [][]string{
		{`C:\GCTI\RM\bin\IPTakeOver.bat`, "enable", "192.0.2.10", "Local Area Connection (2)", `\Device\NPF_{85FE}`},
	}
	for _, argv := range ok {
		if err := checkBatchArgv(argv); err != nil {
			t.Errorf("checkBatchArgv(%q) = %v, want nil", argv, err)
		}
	}
	for _, bad := range []string{"a&b", "a|b", "a<b", "a>b", "a^b", "%PATH%", "!x!", `a"b`, "a\nb"} {
		if err := checkBatchArgv([]string{`C:\x.bat`, bad}); err == nil {
			t.Errorf("checkBatchArgv accepted %q", bad)
		}
	}
	for path, want := range map[string]bool{`C:\x.bat`: true, `C:\x.CMD`: true, `/x/y.sh`: false, `C:\x.exe`: false} {
		if got := isBatch(path); got != want {
			t.Errorf("isBatch(%q) = %v, want %v", path, got, want)
		}
	}
}

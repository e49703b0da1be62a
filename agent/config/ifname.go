package config

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// maxConnectionName is the longest interface alias Windows keeps
// (NDIS_IF_MAX_STRING_SIZE, in UTF-16 code units).
const maxConnectionName = 256

// portableIfnameRE is what the other backends (script, fake) take: the
// letters and digits of any script, and only punctuation that neither a
// shell nor cmd.exe interprets, since a script may pass the name on.
var portableIfnameRE = regexp.MustCompile(`^[\p{L}\p{N}][\p{L}\p{M}\p{N} ._:()#*-]{0,255}$`)

// interfaceAllowed reports whether name can be passed to the backend as one
// argument at all. Windows connection names (netsh, nlb) may hold anything
// Windows allows: letters of any script, spaces, '*', parentheses, '#'
// ("Connexion au réseau local 2", "Подключение по локальной сети", "Local
// Area Connection* 12"); interfaceRefused says which characters Windows
// itself refuses.
func interfaceAllowed(backend, name string) bool {
	switch backend {
	case "netsh", "nlb":
		if !utf8.ValidString(name) || strings.TrimSpace(name) != name || len(utf16.Encode([]rune(name))) > maxConnectionName {
			return false
		}
		return !strings.ContainsFunc(name, unicode.IsControl)
	case "netlink", "ip":
		return ValidInterface(name)
	}
	return (ValidInterface(name) || portableIfnameRE.MatchString(name)) && !strings.HasSuffix(name, " ")
}

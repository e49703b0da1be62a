/*
 * bcryptprimitives.dll for Wine 8, built only for running vipagent's
 * Windows test binaries under Wine (scripts/test-windows.sh); never shipped.
 *
 * Why it exists: Go 1.22 and later make every Windows binary import
 * ProcessPrng from bcryptprimitives.dll (the random source of the runtime
 * and crypto/rand). Windows 10 and later have it; Wine 8, the version in
 * Debian 12, does not, so a Go program fails to start under it. This DLL
 * exports ProcessPrng on top of advapi32's SystemFunction036 (RtlGenRandom),
 * which Wine has, and is loaded with WINEDLLOVERRIDES=bcryptprimitives=n.
 *
 * Build: x86_64-w64-mingw32-gcc -shared -O2 -o bcryptprimitives.dll \
 *            processprng.c -ladvapi32
 */
#include <windows.h>

/* RtlGenRandom's real name; advapi32 exports it under this one. */
BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

/*
 * ProcessPrng fills data with len random bytes. Windows documents that it
 * always succeeds and returns TRUE; RtlGenRandom takes a ULONG, so larger
 * requests are filled in pieces.
 */
__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
	while (len > 0) {
		ULONG n = len > 0x10000000 ? 0x10000000 : (ULONG)len;
		if (!SystemFunction036(data, n))
			return FALSE;
		data += n;
		len -= n;
	}
	return TRUE;
}

<#
.SYNOPSIS
  Copies vipagent's binary and its wrapper scripts into the install
  directory of an RM host (default C:\GCTI\vipagent, the genesys.install_dir
  default).

.DESCRIPTION
  Only copies files. The binary is installed as -Executable (default
  vipagent.exe; set genesys.executable to the same). The wrappers come from
  -Wrappers: the directory `vipagent genesys --out` wrote them to, made for
  your config; the default, this script's directory, holds the ones
  generated for the defaults, which call vipagent.exe. Wrappers made for
  another executable name are refused. The config goes to -ConfigFile
  (default vipagent.yaml; absolute, or relative to -InstallDir; set
  genesys.config_file to the same, as the wrappers and applications read it
  there): an existing one is never overwritten; when -Config is given and
  none exists yet, it is copied there. Then follow GUIDE.md from
  `vipagent genesys` to register the agent in Genesys.

  Exit codes: 0 installed and `config check` passed; 2 a bad argument
  (-Executable, wrappers made for another executable, a missing file, a
  Windows older than Server 2016) or `config check` refused the config,
  nothing or only the files copied so far changed; 1 the copy itself
  failed (rights, disk).

.EXAMPLE
  .\install-windows.ps1 -Binary .\vipagent.exe -Config .\rm1.yaml

.EXAMPLE
  .\install-windows.ps1 -Binary .\vipagent.exe -Executable 'vipagent-rm.exe' -InstallDir 'C:\Program Files\vipagent' -Wrappers .\genesys -Config .\rm1.yaml -ConfigFile 'D:\GCTI\cfg\vipagent.yaml'
#>
param(
    [string]$InstallDir = 'C:\GCTI\vipagent',
    [string]$Binary = (Join-Path $PSScriptRoot 'vipagent.exe'),
    [string]$Executable = 'vipagent.exe',
    [string]$Wrappers = $PSScriptRoot,
    [string]$Config = '',
    [string]$ConfigFile = 'vipagent.yaml'
)
$ErrorActionPreference = 'Stop'

# Write-Error under 'Stop' ends the script at once with exit code 1, before
# any `exit 2`: usage errors are written to stderr this way instead.
function Fail-Usage([string]$Message) {
    [Console]::Error.WriteLine("install-windows: $Message")
    exit 2
}

# vipagent.exe is a Go program: Go supports Windows 10 / Server 2016 and later.
if ([Environment]::OSVersion.Version.Major -lt 10) {
    Fail-Usage "vipagent needs Windows Server 2016 or later (this is Windows $([Environment]::OSVersion.Version))"
}
if ($Executable -eq '' -or $Executable.IndexOfAny([char[]]'\/') -ge 0) {
    Fail-Usage "-Executable takes a file name, not a path: '$Executable'"
}
if (-not (Test-Path -LiteralPath $Binary -PathType Leaf)) {
    Fail-Usage "-Binary: no file '$Binary'"
}
if ($Config -ne '' -and -not (Test-Path -LiteralPath $Config -PathType Leaf)) {
    Fail-Usage "-Config: no file '$Config'"
}
$names = 'IPTakeOver.bat', 'INIT_IPTakeOver.bat', 'NLB.bat', 'INIT.bat'
# A wrapper runs the binary beside it by name ("%~dp0NAME", % doubled):
# refuse wrappers made for another name rather than install a
# failoverscript that cannot start.
$call = '"%~dp0' + $Executable.Replace('%', '%%') + '"'
foreach ($w in $names) {
    $path = Join-Path $Wrappers $w
    if (-not (Test-Path -LiteralPath $path -PathType Leaf)) {
        Fail-Usage "-Wrappers: no $w in '$Wrappers' (vipagent genesys --config CONFIG --out DIR writes them; pass -Wrappers DIR)"
    }
    $text = Get-Content -Raw -LiteralPath $path
    if (-not $text.Contains($call)) {
        Fail-Usage ("$path does not run $Executable`: generate the wrappers with genesys.executable: " +
            "$Executable (vipagent genesys --config CONFIG --out DIR) and pass -Wrappers DIR")
    }
}

New-Item -ItemType Directory -Force -Path $InstallDir | Out-Null
$exe = Join-Path $InstallDir $Executable
Copy-Item -Force -LiteralPath $Binary -Destination $exe
foreach ($w in $names) {
    Copy-Item -Force -LiteralPath (Join-Path $Wrappers $w) -Destination $InstallDir
}
$target = $ConfigFile
if (-not [System.IO.Path]::IsPathRooted($target)) {
    $target = Join-Path $InstallDir $ConfigFile
}
if ($Config -ne '' -and -not (Test-Path -LiteralPath $target)) {
    New-Item -ItemType Directory -Force -Path (Split-Path -Parent $target) | Out-Null
    Copy-Item -LiteralPath $Config -Destination $target
}
# config check exits 0 or 2 (the config's problems on stderr); anything
# else means the installed binary did not run properly.
& $exe config check --config $target
$code = $LASTEXITCODE
if ($code -ne 0 -and $code -ne 2) {
    [Console]::Error.WriteLine("install-windows: $exe config check exited $code")
    exit 1
}
exit $code

<#
.SYNOPSIS
  Copies vipagent.exe and its wrapper scripts into the install directory of
  an RM host (default C:\GCTI\vipagent, the genesys.install_dir default).

.DESCRIPTION
  Only copies files. An existing vipagent.yaml is never overwritten; when
  -Config is given and none exists yet, it is copied as vipagent.yaml, the
  name the wrappers pass to vipagent. Then follow GUIDE.md from
  `vipagent genesys` to register the agent in Genesys.

.EXAMPLE
  .\install-windows.ps1 -Binary .\vipagent.exe -Config .\rm1.yaml
#>
param(
    [string]$InstallDir = 'C:\GCTI\vipagent',
    [string]$Binary = (Join-Path $PSScriptRoot 'vipagent.exe'),
    [string]$Config = ''
)
$ErrorActionPreference = 'Stop'

New-Item -ItemType Directory -Force -Path $InstallDir | Out-Null
Copy-Item -Force -Path $Binary -Destination (Join-Path $InstallDir 'vipagent.exe')
foreach ($w in 'IPTakeOver.bat', 'INIT_IPTakeOver.bat', 'NLB.bat', 'INIT.bat') {
    Copy-Item -Force -Path (Join-Path $PSScriptRoot $w) -Destination $InstallDir
}
$target = Join-Path $InstallDir 'vipagent.yaml'
if ($Config -ne '' -and -not (Test-Path $target)) {
    Copy-Item -Path $Config -Destination $target
}
& (Join-Path $InstallDir 'vipagent.exe') config check --config $target
exit $LASTEXITCODE

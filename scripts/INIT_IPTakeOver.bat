@echo off
rem Drop-in for Genesys' INIT_IPTakeOver.bat: run by hand on both RM hosts
rem before the first start of the pair; removes the VIP from this host.
"%~dp0vipagent.exe" failover --config "%~dp0vipagent.yaml" disable %*
exit /b %ERRORLEVEL%

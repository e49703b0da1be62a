@echo off
rem Drop-in for Genesys' INIT.bat (VIP on the nlb backend): run by hand on
rem both RM hosts before the first start of the pair; disables the VIP here.
"%~dp0vipagent.exe" failover --config "%~dp0vipagent.yaml" disable %*
exit /b %ERRORLEVEL%

@echo off
rem Drop-in for Genesys' IPTakeOver.bat: set RM's [cluster] failoverscript to
rem this file. RM calls it with "enable|disable MEMBERID"; vipagent does the
rem work with vipagent.yaml from this directory and returns 0 or 1.
"%~dp0vipagent.exe" failover --config "%~dp0vipagent.yaml" %*
exit /b %ERRORLEVEL%

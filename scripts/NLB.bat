@echo off
rem Drop-in for Genesys' NLB.bat (VIP on the nlb backend): set RM's [cluster]
rem failoverscript to this file. RM calls it with "enable|disable MEMBERID";
rem vipagent does the work with vipagent.yaml from this directory.
"%~dp0vipagent.exe" failover --config "%~dp0vipagent.yaml" %*
exit /b %ERRORLEVEL%

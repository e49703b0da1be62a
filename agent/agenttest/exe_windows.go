package agenttest

const exeSuffix = ".exe"

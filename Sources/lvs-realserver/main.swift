// lvs-realserver: sets a Linux host up as an LVS direct-routing real server, undoes it, and
// checks it. The logic lives in LVSRealServer; this target is only the command line.
import ArgumentParser

RealServerCommand.main()

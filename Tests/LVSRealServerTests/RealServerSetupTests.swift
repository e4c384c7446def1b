import LVSRealServer
import Testing

import LVSAdmin
import Testing

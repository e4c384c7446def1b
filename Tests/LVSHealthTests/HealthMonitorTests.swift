import LVSHealth
import Testing

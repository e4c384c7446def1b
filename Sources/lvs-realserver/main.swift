import LVSRealServer
print("lvs-realserver: not built yet")

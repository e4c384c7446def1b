import LVSAdmin
print("lvsadm: not built yet")

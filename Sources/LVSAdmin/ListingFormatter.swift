import LVSConfig
import LVSCore

/// ipvsadm's output formats (IPVS-SEMANTICS.md §5.6), byte for byte, from a `DirectorStatus`.
public enum ListingFormatter {}

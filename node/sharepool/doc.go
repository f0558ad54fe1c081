// Package sharepool is a relay's share pool: the shares it holds for
// receivers it could not reach, until they come back and claim them.
//
// # How shares flow
//
// A sender splits a message into n shares and sends each over a different
// relay. A relay that cannot deliver its share to the receiver deposits it
// here (Add; package node/delivery does it when it serves SHARE_POOL_ADD, or
// RELAY_OPEN for a receiver it cannot reach, once the share's bytes
// arrived over RDT). When the receiver comes back it asks each relay for
// what it holds (SHARE_POOL_CLAIM, served with Claim) and, once a share
// was pushed to it, the relay forgets it (Delete). Shares
// nobody claims expire after Limits.TTL.
//
// Who may deposit is not this package's decision: the node checks,
// before Add, that the sender holds a friend token from the receiver
// (package node/friends), and asks Check before taking a share's bytes.
//
// # Limits
//
// Every entry is charged EntryCost(len(share)): its file length rounded
// up to BlockSize (4096), which is what a small file costs on disk; a
// share of up to 4016 bytes costs one block. Add refuses a
// share that would exceed the per-sender, per-recipient, total or entry
// cap with a *LimitError (errors.Is ErrFull) naming the limit, and never
// evicts anyone else's share to make room; only expired shares are
// dropped. Defaults (Limits): 16 MiB per sender over all receivers, 64 MiB
// per receiver, 1 GiB and 262144 entries in all, 7 days TTL.
//
// # On disk
//
// Each entry is one file in the pool's directory, named by 32 hex
// characters of SHA-256("vmdt/sharepool/name/v1\x00" || dst || src ||
// msg id || index) and ".share", so a listing reveals no address or
// message id. It is written to a ".tmp-*" file, synced, renamed into place
// and the directory synced, so a crash leaves either the whole entry or
// none. Open reads every file, removes leftover temp files, removes files
// that fail validation or whose name does not match their contents
// (logging each), drops expired entries and rebuilds the accounting. Only
// the index is kept in memory; Claim and Take read shares from disk.
//
// Entry file, version 1 (integers big-endian):
//
//	offset size  field
//	0      4     magic "VSPL"
//	4      1     version (1)
//	5      8     message id
//	13     20    source DDT address (non-zero)
//	33     20    destination DDT address (non-zero)
//	53     1     share index, 1..n
//	54     1     n
//	55     1     k, 2 <= k <= n
//	56     8     added, Unix nanoseconds, > 0
//	64     8     expires, Unix nanoseconds, > added
//	72     4     share length L, 1..MaxDataLen (67108864)
//	76     L     share
//	76+L   4     CRC-32C (Castagnoli) of bytes 0 .. 76+L-1
//
// A file of any other length, magic, version or checksum is corrupt. The
// checksum guards against torn writes and bit rot, not against someone
// who can write the directory.
package sharepool

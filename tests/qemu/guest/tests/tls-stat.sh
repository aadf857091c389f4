# shellcheck shell=sh
# Sourced by guest checks that look at the kernel's TLS (kTLS) counters.
# (Not executable: not a check of its own.)

# tls_stat NAME: a counter of /proc/net/tls_stat (empty without tls.ko)
tls_stat() {
	awk -v n="$1" '$1 == n { print $2 }' /proc/net/tls_stat 2>/dev/null
}

# ktls_sockets N [SINCE]: N TCP connections to the host (10.0.2.2) are
# established and exactly N sockets have kTLS on both ways in software
# (so each connection is one), at least SINCE (default N) were set up
# since boot, and no record failed to decrypt; prints the counters, else
# why, and returns 1.
ktls_sockets() {
	_conns=$(awk '$3 ~ /^0202000A:/ && $4 == "01"' /proc/net/tcp | wc -l)
	_tx=$(tls_stat TlsCurrTxSw) _rx=$(tls_stat TlsCurrRxSw)
	_all=$(tls_stat TlsTxSw) _err=$(tls_stat TlsDecryptError)
	_have="$_conns connections, TlsCurrTxSw=$_tx TlsCurrRxSw=$_rx TlsTxSw=$_all TlsDecryptError=$_err"
	if [ "$_conns" -ne "$1" ] || [ "${_tx:-0}" -ne "$1" ] || [ "${_rx:-0}" -ne "$1" ]; then
		echo "want $1 kTLS connections, have $_have"
		return 1
	fi
	if [ "${_all:-0}" -lt "${2:-$1}" ]; then
		echo "want ${2:-$1} kTLS sockets since boot, have $_have"
		return 1
	fi
	[ "${_err:-1}" -eq 0 ] || { echo "decryption errors: $_have"; return 1; }
	echo "$_have"
}

#!/bin/sh
# dracut cmdline hook (sourced by dracut-cmdline): the boot lines of
# nbdroot(7) are ours, so that dracut does not refuse root=nbd:...;
# nbdroot-generator and nbdroot.service do the rest.
for _nbdroot_w in $(cat /proc/cmdline); do
	case $_nbdroot_w in
	root=nbd:* | netroot=nbd:* | nbdroot=* | root=dhcp | netroot=dhcp)
		# shellcheck disable=SC2034 # read by dracut-cmdline
		rootok=1 ;;
	esac
done
unset _nbdroot_w

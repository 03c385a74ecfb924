//! The endpoint's address: `ip:port`, `[ipv6]:port` or `:port`, never a host name.

use super::*;

/// `ip:port`, `[ipv6]:port`, or `:port` for every IPv4 interface (`0.0.0.0`; `[::]:port` is
/// every IPv6 one, and on Linux every IPv4 one too). Never a host name: resolving it could
/// block start-up, and a name may stand for several addresses.
pub(crate) fn parse_address(text: &str) -> Result<SocketAddr, String> {
    // `::1:9464` starts with a colon too: an IPv6 address without brackets.
    let address = match text.strip_prefix(':').filter(|port| !port.contains(':')) {
        Some(port) => match port.parse::<u16>() {
            Ok(port) => SocketAddr::from((Ipv4Addr::UNSPECIFIED, port)),
            Err(_) => return Err(format!("{text:?} has no port from 1 to 65535; {FORMS}")),
        },
        None => text.parse::<SocketAddr>().map_err(|_| why_not(text))?,
    };
    if address.port() == 0 {
        return Err(format!(
            "{text:?}: port 0 picks a port at random, which no scrape config can name; {FORMS}"
        ));
    }
    Ok(address)
}

/// Why `text` is not an address.
pub(super) fn why_not(text: &str) -> String {
    if text.contains("://") {
        return format!("{text:?} is a URL, not an address; {FORMS}");
    }
    match text.rsplit_once(':') {
        Some((host, port)) if port.parse::<u16>().is_ok() && host.parse::<Ipv6Addr>().is_ok() => {
            format!("{text:?}: an IPv6 address goes in brackets, as [{host}]:{port}")
        }
        Some((host, port))
            if port.parse::<u16>().is_ok()
                && !host.is_empty()
                && !host.starts_with('[')
                && host.parse::<IpAddr>().is_err() =>
        {
            format!(
                "{text:?}: host names are refused (resolving one could block the job's \
                 start); {FORMS}"
            )
        }
        None if text.parse::<IpAddr>().is_ok() => format!("{text:?} has no port; {FORMS}"),
        _ => format!("{text:?} is not an address; {FORMS}"),
    }
}

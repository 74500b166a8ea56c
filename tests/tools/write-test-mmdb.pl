#!/usr/bin/perl
# Writes the small MaxMind DB files lxcdn's GeoIP tests read, with MaxMind's own writer
# (Debian libmaxmind-db-writer-perl). Usage: write-test-mmdb.pl OUTDIR
#
# Files (addresses from the documentation ranges, plus 81.2.69.0/24 as in MaxMind's test data):
#   geoip2-city.mmdb   GeoIP2/GeoLite2-City layout, IPv6 tree with IPv4 aliased
#     81.2.69.0/24       country.iso_code GB, continent.code EU, location 51.5142,-0.0931
#     2001:db8:100::/48  DE, EU, 50.1109,8.6821
#     175.16.199.0/24    CN, AS, no location (a country-only record: the centre is used)
#     192.0.2.0/24       registered_country.iso_code BR only
#     198.51.100.0/24    traits only (found, but no place in it)
#   country-flat.mmdb  flat layout of free country databases (ipinfo lite / ip-location-db)
#     81.2.69.0/24       country_code FR, continent_code EU, country "France", continent "Europe"
#     2001:db8:100::/48  country_code AU, continent_code OC
#     203.0.113.0/24     country_code "ca" only (no continent, lower case)
#     2001:db8:300::/48  country_code JP + top-level latitude 35.6895, longitude 139.6917
#     2001:db8:400::/48  country "SE", continent "EU" (ipinfo's older country.mmdb)
#   country-v4.mmdb    DB-IP lite country layout in an IPv4-only tree
#     81.2.69.0/24       country.iso_code NL, continent.code EU
#   wrong-types.mmdb   81.2.69.0/24 with country_code a number and latitude a string
#   truncated.mmdb     the first 600 bytes of geoip2-city.mmdb (no metadata)
#   garbage.mmdb       4 KiB that are not a MaxMind DB
#   empty.mmdb         0 bytes
#   bad-tree.mmdb      geoip2-city.mmdb with its search tree overwritten by 0xff bytes
use strict;
use warnings;
use MaxMind::DB::Writer::Tree;

my $out = shift or die "usage: $0 OUTDIR\n";
-d $out or mkdir $out or die "$out: $!\n";

my %types = (
    country => 'map', registered_country => 'map', continent => 'map', location => 'map',
    traits => 'map', names => 'map', en => 'utf8_string', iso_code => 'utf8_string',
    code => 'utf8_string', latitude => 'double', longitude => 'double',
    is_anycast => 'boolean', country_code => 'utf8_string', continent_code => 'utf8_string',
    country_name => 'utf8_string', continent_name => 'utf8_string', asn => 'utf8_string',
);

sub tree {
    my ($type, $ip_version, $types) = @_;
    return MaxMind::DB::Writer::Tree->new(
        ip_version => $ip_version,
        record_size => 24,
        database_type => $type,
        languages => ['en'],
        description => { en => "lxcdn test data: $type" },
        map_key_type_callback => sub { $types->{ $_[0] } // die "no type for key $_[0]\n" },
        alias_ipv6_to_ipv4 => $ip_version == 6 ? 1 : 0,
        remove_reserved_networks => 0,
    );
}

sub write_tree {
    my ($tree, $name) = @_;
    open my $fh, '>:raw', "$out/$name" or die "$out/$name: $!\n";
    $tree->write_tree($fh);
    close $fh or die "$out/$name: $!\n";
}

my $city = tree('Test-GeoIP2-City', 6, \%types);
$city->insert_network('81.2.69.0/24', {
    continent => { code => 'EU', names => { en => 'Europe' } },
    country => { iso_code => 'GB', names => { en => 'United Kingdom' } },
    location => { latitude => 51.5142, longitude => -0.0931 } });
$city->insert_network('2001:db8:100::/48', {
    continent => { code => 'EU' }, country => { iso_code => 'DE' },
    location => { latitude => 50.1109, longitude => 8.6821 } });
$city->insert_network('175.16.199.0/24', { continent => { code => 'AS' }, country => { iso_code => 'CN' } });
$city->insert_network('192.0.2.0/24', { registered_country => { iso_code => 'BR' } });
$city->insert_network('198.51.100.0/24', { traits => { is_anycast => 1 } });
write_tree($city, 'geoip2-city.mmdb');

my %flat_types = (%types, country => 'utf8_string', continent => 'utf8_string');
my $flat = tree('Test-ipinfo-lite', 6, \%flat_types);
$flat->insert_network('81.2.69.0/24', { country_code => 'FR', continent_code => 'EU',
    country => 'France', continent => 'Europe', asn => 'AS64496' });
$flat->insert_network('2001:db8:100::/48', { country_code => 'AU', continent_code => 'OC' });
$flat->insert_network('203.0.113.0/24', { country_code => 'ca' });
$flat->insert_network('2001:db8:300::/48', { country_code => 'JP', latitude => 35.6895, longitude => 139.6917 });
$flat->insert_network('2001:db8:400::/48', { country => 'SE', continent => 'EU',
    country_name => 'Sweden', continent_name => 'Europe' });
write_tree($flat, 'country-flat.mmdb');

my $v4 = tree('Test-DBIP-Country-Lite', 4, \%types);
$v4->insert_network('81.2.69.0/24', { continent => { code => 'EU' }, country => { iso_code => 'NL' } });
write_tree($v4, 'country-v4.mmdb');

my %wrong = (%types, country_code => 'uint32', latitude => 'utf8_string');
my $bad = tree('Test-Wrong-Types', 6, \%wrong);
$bad->insert_network('81.2.69.0/24', { country_code => 42, latitude => 'north', longitude => 8.5 });
write_tree($bad, 'wrong-types.mmdb');

sub slurp { open my $fh, '<:raw', $_[0] or die "$_[0]: $!\n"; local $/; return <$fh>; }
sub spew { open my $fh, '>:raw', "$out/$_[0]" or die "$out/$_[0]: $!\n"; print $fh $_[1]; close $fh; }
my $city_bytes = slurp("$out/geoip2-city.mmdb");
spew('truncated.mmdb', substr($city_bytes, 0, 600));
spew('garbage.mmdb', join('', map { chr(($_ * 7919) % 251) } 0 .. 4095));
spew('empty.mmdb', '');
# The search tree starts at offset 0 and fills node_count * 6 bytes (24-bit records).
my $tree_bytes = 6 * 200;
spew('bad-tree.mmdb', ("\xff" x $tree_bytes) . substr($city_bytes, $tree_bytes));
print "wrote test databases to $out\n";

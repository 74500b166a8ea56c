#!/usr/bin/perl
# Writes the GeoIP2-City-layout database bench/redirect gives both nginx (geoip2 module) and
# lxcdn: 127.0.0.0/8 (wrk's address) in Germany with coordinates, plus 4096 other /24 networks
# spread over a few countries so the tree has some depth. Usage: write-bench-mmdb.pl OUT.mmdb
use strict;
use warnings;
use MaxMind::DB::Writer::Tree;

my $out = shift or die "usage: $0 OUT.mmdb\n";
my %types = (
    country => 'map', continent => 'map', location => 'map', iso_code => 'utf8_string',
    code => 'utf8_string', latitude => 'double', longitude => 'double',
);
my $tree = MaxMind::DB::Writer::Tree->new(
    ip_version => 6, record_size => 28, database_type => 'lxcdn-bench-City',
    languages => ['en'], description => { en => 'lxcdn bench/redirect data' },
    map_key_type_callback => sub { $types{ $_[0] } // die "no type for key $_[0]\n" },
    alias_ipv6_to_ipv4 => 1, remove_reserved_networks => 0,
);
my @places = (
    ['DE', 'EU', 50.11, 8.68], ['JP', 'AS', 35.68, 139.69], ['US', 'NA', 40.71, -74.0],
    ['BR', 'SA', -23.55, -46.63], ['AU', 'OC', -33.87, 151.21], ['GB', 'EU', 51.51, -0.13],
);
sub record {
    my ($p) = @_;
    return { country => { iso_code => $p->[0] }, continent => { code => $p->[1] },
             location => { latitude => $p->[2], longitude => $p->[3] } };
}
$tree->insert_network('127.0.0.0/8', record($places[0]));
for my $i (0 .. 4095) {
    my $net = sprintf('%d.%d.%d.0/24', 11 + ($i >> 8), $i & 255, ($i * 7) & 255);
    $tree->insert_network($net, record($places[$i % @places]));
}
open my $fh, '>:raw', $out or die "$out: $!\n";
$tree->write_tree($fh);
close $fh or die "$out: $!\n";

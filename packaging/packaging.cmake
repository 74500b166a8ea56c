# The Debian package, in one place: what `cmake --install` puts where, and CPack's DEB settings.
#   cmake --preset release && cmake --build --preset release && cpack --preset deb
# writes build/release/lxcdn_<version>_amd64.deb (README.md, "Installing the package"). The
# maintainer scripts (packaging/debian/) make the user lxcdn, /etc/lxcdn/tls (0750 root:lxcdn) and
# a self-signed key (0640 root:lxcdn) when none is there. No file goes to /etc: the example
# configs are documentation, copied by the operator, so an upgrade has nothing of theirs to
# overwrite, and the units wait for the config (ConditionPathExists=).
#
# Paths are relative to the install prefix, which the package sets to /usr; the units name
# /usr/bin/lxcdn, so they are meant for the package, not for `cmake --install --prefix` elsewhere.

install(TARGETS lxcdn RUNTIME DESTINATION bin)
install(FILES packaging/systemd/lxcdn-origin.service packaging/systemd/lxcdn-mirror.service
              packaging/systemd/lxcdn-publish.service packaging/systemd/lxcdn-publish.timer
        DESTINATION lib/systemd/system)
install(FILES packaging/examples/origin.yaml packaging/examples/mirror.yaml
              packaging/examples/publish.yaml
        DESTINATION share/doc/lxcdn/examples)
install(PROGRAMS packaging/examples/certbot-deploy-hook DESTINATION share/doc/lxcdn/examples)
install(FILES README.md ARCHITECTURE.md DESTINATION share/doc/lxcdn)
install(DIRECTORY docs/ DESTINATION share/doc/lxcdn/docs FILES_MATCHING PATTERN "*.md")

set(CPACK_PACKAGE_NAME lxcdn)
set(CPACK_PACKAGE_VENDOR "lxcdn")
set(CPACK_PACKAGE_CONTACT "lxcdn maintainers <lxcdn@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "LXD/Incus simplestreams image distribution: origin, mirror, publisher")
set(CPACK_PACKAGE_DESCRIPTION
    "One binary, lxcdn, with the roles origin (the index over HTTPS, image downloads redirected \
to the nearest healthy mirror by GeoIP), mirror (a regional caching mirror), publish (signed, \
verified generations switched atomically on every origin node) and the operator tools \
check-mirror, geoip, mirrors and demo. systemd units run the servers as the user lxcdn.")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
# A sanitizer build (the debug and tsan presets) is packaged only to test the packaging: its
# version sorts before the release's (`~`), so installing the real package replaces it.
# Its symbols stay, for the sanitizers' reports; a release package is stripped (about a tenth of
# the size; RelWithDebInfo's debug info stays in the build tree).
if(LXCDN_SANITIZE)
  string(APPEND CPACK_PACKAGE_VERSION "~asan")
elseif(LXCDN_TSAN)
  string(APPEND CPACK_PACKAGE_VERSION "~tsan")
else()
  set(CPACK_STRIP_FILES ON)
endif()
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_GENERATOR DEB)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # lxcdn_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Shared libraries from dpkg-shlibdeps (libssl3, libyaml-cpp0.7, libspdlog1.10-fmt9, libfmt9,
# libmaxminddb0, libgpgme11, zlib1g, libstdc++6, libc6: the runtime side of
# scripts/install-deps' build packages); the maintainer scripts need adduser and openssl.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser, openssl")
# What `lxcdn publish` and `lxcdn validate` run (xz, rsync, xdelta3, gpg through GPGME, ssh for
# remote targets) and the trust store the mirror's upstream check uses by default.
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "ca-certificates, xz-utils, rsync, xdelta3, gpg, gpg-agent")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "openssh-client, certbot, geoipupdate")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${PROJECT_SOURCE_DIR}/packaging/debian/postinst
                                       ${PROJECT_SOURCE_DIR}/packaging/debian/prerm
                                       ${PROJECT_SOURCE_DIR}/packaging/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)

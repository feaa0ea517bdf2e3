# SPDX-License-Identifier: Apache-2.0
# Debian packages, made by CPack's DEB generator from the install
# components (ci/package.sh configures with CMAKE_INSTALL_PREFIX=/usr and
# runs `cpack`):
#   launch        bin/launch, libexec/launch/launch-image, the man pages, the
#                 bash completion, /etc/launch/launch.json.example
#   launch-slurm  the SPANK plugin, /etc/launch/plugstack.conf.example and
#                 oci.conf.example
#   launch-hooks  libexec/launch/hooks/launch-hook-{mpi,gpu} and their hook
#                 files in share/launch/hooks.d
# Depends: the shared libraries, from dpkg-shlibdeps; the programs launch
# runs (squashfs-tools-ng's tar2sqfs and sqfs2tar for images, squashfuse
# when it is not built in); the plugin and the hooks need launch itself.
set(LAUNCH_PACKAGE_MAINTAINER "launch packagers <root@localhost>" CACHE STRING
    "Maintainer field of the Debian packages (Name <email>)")
set(LAUNCH_PACKAGE_RELEASE 1 CACHE STRING "Debian revision of the packages")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME launch)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "${LAUNCH_PACKAGE_MAINTAINER}")
set(CPACK_PACKAGE_DIRECTORY ${PROJECT_BINARY_DIR}/dist)
set(CPACK_COMPONENTS_ALL launch slurm hooks)
set(CPACK_COMPONENTS_GROUPING IGNORE)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE ${LAUNCH_PACKAGE_RELEASE})
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_STRIP_FILES ON)

set(_version "${PROJECT_VERSION}-${LAUNCH_PACKAGE_RELEASE}")

set(CPACK_DEBIAN_LAUNCH_PACKAGE_NAME launch)
set(CPACK_COMPONENT_LAUNCH_DESCRIPTION
    "rootless container launcher for HPC clusters
launch runs container images (squashfs files, image directories, its own
image store, docker:// references) as an ordinary user: no root, no setuid
helper, no daemon. Images are mounted by a FUSE server inside the user's
own user namespace. Includes the image manager (import, pull, commit),
the man pages and the bash completion.")
set(_deps "squashfs-tools-ng")
if(NOT LAUNCH_SQUASHFUSE_LL)
  string(APPEND _deps ", squashfuse")
endif()
set(CPACK_DEBIAN_LAUNCH_PACKAGE_DEPENDS "${_deps}")
set(CPACK_DEBIAN_LAUNCH_PACKAGE_RECOMMENDS "uidmap")
set(CPACK_DEBIAN_LAUNCH_PACKAGE_SUGGESTS "launch-slurm, launch-hooks")

set(CPACK_DEBIAN_SLURM_PACKAGE_NAME launch-slurm)
set(CPACK_DEBIAN_SLURM_PACKAGE_SECTION admin)
set(CPACK_COMPONENT_SLURM_DESCRIPTION
    "Slurm SPANK plugin of launch
srun --container-image=IMAGE and friends run a job's tasks in one launch
container per node and step (spank_launch.so), with an example
plugstack.conf line and the oci.conf lines for Slurm's own --container.")
set(CPACK_DEBIAN_SLURM_PACKAGE_DEPENDS "launch (= ${_version})")
set(CPACK_DEBIAN_SLURM_PACKAGE_ENHANCES "slurmd, slurm-client")

set(CPACK_DEBIAN_HOOKS_PACKAGE_NAME launch-hooks)
set(CPACK_COMPONENT_HOOKS_DESCRIPTION
    "MPI and NVIDIA GPU hooks of launch
OCI hooks that put the host's MPI (MPICH ABI) and the node's NVIDIA GPU
devices and driver libraries into launch containers (launch run --mpi,
--gpu), with example hook files for the site's hooks.d.")
set(CPACK_DEBIAN_HOOKS_PACKAGE_DEPENDS "launch (= ${_version})")

# The example files under /etc are conffiles: an admin's edits survive
# upgrades, and a purge removes them.
set(_conffiles_dir ${PROJECT_BINARY_DIR}/cpack-conffiles)
file(MAKE_DIRECTORY ${_conffiles_dir}/launch ${_conffiles_dir}/slurm)
if(LAUNCH_SYSCONFDIR MATCHES "^/etc/")
  file(WRITE ${_conffiles_dir}/launch/conffiles "${LAUNCH_SYSCONFDIR}/launch.json.example\n")
  set(CPACK_DEBIAN_LAUNCH_PACKAGE_CONTROL_EXTRA ${_conffiles_dir}/launch/conffiles)
  set(_slurm_conffiles "${LAUNCH_SYSCONFDIR}/oci.conf.example\n")
  if(TARGET spank_launch)
    string(APPEND _slurm_conffiles "${LAUNCH_SYSCONFDIR}/plugstack.conf.example\n")
  endif()
  file(WRITE ${_conffiles_dir}/slurm/conffiles "${_slurm_conffiles}")
  set(CPACK_DEBIAN_SLURM_PACKAGE_CONTROL_EXTRA ${_conffiles_dir}/slurm/conffiles)
endif()

include(CPack)

// kernels/collision_narrowphase.h — dispatch of a geom pair to its narrowphase function.
// Supported pairs: plane : {sphere, capsule, box}, sphere : {sphere, capsule, box},
// capsule : {capsule, box}, box : box. Other pairs (cylinder, ellipsoid, mesh, hfield) use
// MuJoCo's convex (GJK/EPA) collider, which we do not implement: a model whose colliding geom
// pairs include them is refused at compile time (collision_pair_supported).
#pragma once

#include "kernels/collision_box.h"

namespace stampede::kern::constraint {

// most contacts one pair can produce (buffer size for one narrowphase call)
constexpr int kMaxContactsPerPair = kBoxBoxMaxContacts;

// true when we collide geom types t1 <= t2 as MuJoCo does
SP_HD inline bool collision_pair_supported(int t1, int t2) {
  if (t1 > t2) {
    int t = t1;
    t1 = t2;
    t2 = t;
  }
  switch (t1) {
    case kGeomPlane:
      return t2 == kGeomSphere || t2 == kGeomCapsule || t2 == kGeomBox;
    case kGeomSphere:
      return t2 == kGeomSphere || t2 == kGeomCapsule || t2 == kGeomBox;
    case kGeomCapsule:
      return t2 == kGeomCapsule || t2 == kGeomBox;
    case kGeomBox:
      return t2 == kGeomBox;
    default:
      return false;
  }
}

// most contacts the pair (t1 <= t2) can produce
SP_HD inline int collision_max_contacts(int t1, int t2) {
  if (t1 == kGeomSphere || t2 == kGeomSphere) return 1;
  if (t1 == kGeomBox && t2 == kGeomBox) return kBoxBoxMaxContacts;
  if (t1 == kGeomPlane && t2 == kGeomBox) return 4;
  return 2;  // plane : capsule, capsule : capsule, capsule : box
}

// collide geoms of types t1 <= t2; `margin` is the detection distance (margin + gap);
// returns the number of contacts written to con (0 for an unsupported pair)
template <class Real>
SP_HD SP_NOINLINE int collide_geoms(ContactPoint<Real>* con, int t1, int t2, Real margin,
                               const Real* pos1, const Real* mat1, const Real* size1,
                               const Real* pos2, const Real* mat2, const Real* size2) {
  switch (t1 * 8 + t2) {
    case kGeomPlane * 8 + kGeomSphere:
      return collide_plane_sphere(con, margin, pos1, mat1, size1, pos2, mat2, size2);
    case kGeomPlane * 8 + kGeomCapsule:
      return collide_plane_capsule(con, margin, pos1, mat1, size1, pos2, mat2, size2);
    case kGeomPlane * 8 + kGeomBox:
      return collide_plane_box(con, margin, pos1, mat1, size1, pos2, mat2, size2);
    case kGeomSphere * 8 + kGeomSphere:
      return collide_sphere_sphere(con, margin, pos1, mat1, size1, pos2, mat2, size2);
    case kGeomSphere * 8 + kGeomCapsule:
      return collide_sphere_capsule(con, margin, pos1, mat1, size1, pos2, mat2, size2);
    case kGeomSphere * 8 + kGeomBox:
      return collide_sphere_box(con, margin, pos1, mat1, size1, pos2, mat2, size2);
    case kGeomCapsule * 8 + kGeomCapsule:
      return collide_capsule_capsule(con, margin, pos1, mat1, size1, pos2, mat2, size2);
    case kGeomCapsule * 8 + kGeomBox:
      return collide_capsule_box(con, margin, pos1, mat1, size1, pos2, mat2, size2);
    case kGeomBox * 8 + kGeomBox:
      return collide_box_box(con, margin, pos1, mat1, size1, pos2, mat2, size2);
    default:
      return 0;
  }
}

}  // namespace stampede::kern::constraint

/** Shared lines (issue 15 point 3, SL-01…SL-09): audit labels (the admin pages come later; the area 'shared_lines' is unreleased). */
export const en = {
  'auditAction.shared_line.created': 'Shared line created',
  'auditAction.shared_line.updated': 'Shared line updated',
  'auditAction.shared_line.deleted': 'Shared line deleted',
};

export const fr: typeof en = {
  'auditAction.shared_line.created': 'Groupe de lignes partagées créé',
  'auditAction.shared_line.updated': 'Groupe de lignes partagées modifié',
  'auditAction.shared_line.deleted': 'Groupe de lignes partagées supprimé',
};

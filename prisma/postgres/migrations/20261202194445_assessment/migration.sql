-- AlterTable
ALTER TABLE "Campaign" ADD COLUMN     "assessment" TEXT NOT NULL DEFAULT '{}';
